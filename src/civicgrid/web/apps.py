from django.apps import AppConfig


class WebConfig(AppConfig):
    """The pages people work in (resident portal, grid worker, 12345 agent, centre workbench,
    department, dashboard): an outer layer over the apps' services and selectors; nothing imports it."""

    name = "civicgrid.web"
    label = "web"
    verbose_name = "Web pages"
