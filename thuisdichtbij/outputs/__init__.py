"""Outputs: the GeoPackage (write and read), QGIS styles, and maps (web, static, raster)."""
