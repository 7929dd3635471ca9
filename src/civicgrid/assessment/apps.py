from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "civicgrid.assessment"
    verbose_name = "考核评估"
