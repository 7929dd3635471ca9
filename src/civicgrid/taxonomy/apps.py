from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "civicgrid.taxonomy"
    verbose_name = "分类与派单目录"
