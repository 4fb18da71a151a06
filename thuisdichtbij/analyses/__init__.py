"""Analyses on a scan: woonzorgzones, fair share, demand and the check of one location."""
