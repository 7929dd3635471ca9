"""Assembles each app's ``api.py`` router into ``/api/v1/`` and serves the OpenAPI document."""

from __future__ import annotations

from civicgrid.assessment.api import router as assessment_router
from civicgrid.cases.api import metrics_router
from civicgrid.cases.api import router as cases_router
from civicgrid.core.api import build_api
from civicgrid.dispatch.api import router as dispatch_router
from civicgrid.disputes.api import router as disputes_router
from civicgrid.events.api import router as events_router
from civicgrid.geo.api import router as geo_router
from civicgrid.org.api import router as org_router
from civicgrid.org.tokens import api_auth
from civicgrid.petitions.api import router as petitions_router
from civicgrid.taxonomy.api import router as taxonomy_router
from civicgrid.warning.api import router as warning_router

# Systems send a token (Authorization: Bearer cg_… or X-Api-Key); people use their session.
api = build_api(auth=api_auth())
api.add_router("/geo/", geo_router)
api.add_router("/", org_router)
api.add_router("/taxonomy/", taxonomy_router)
api.add_router("/dispatch/", dispatch_router)
api.add_router("/events", events_router)
api.add_router("/cases", cases_router)
api.add_router("/disputes", disputes_router)
api.add_router("/petitions", petitions_router)
api.add_router("/metrics", metrics_router)
api.add_router("/warnings", warning_router)
api.add_router("/assessment", assessment_router)
