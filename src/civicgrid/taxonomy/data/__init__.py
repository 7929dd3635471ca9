"""Data files of the taxonomy app (a package so that its ``*.json`` ship in the wheel).

``catalogue.json`` is the default catalogue seeded by :func:`civicgrid.taxonomy.services.catalogue_seed`.
"""
