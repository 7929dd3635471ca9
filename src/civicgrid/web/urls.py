from django.urls import path

from civicgrid.web.views import audit, auth, cases, dashboard, resident, work

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("signin/", auth.SignInView.as_view(), name="signin"),
    path("signin/code/", auth.signin_code, name="signin_code"),
    path("account/second-factor/", auth.second_factor, name="second_factor"),
    path("signout/", auth.SignOutView.as_view(), name="signout"),
    # residents
    path("report/", resident.report, name="report"),
    path("report/suggest/", resident.suggest, name="suggest"),
    path("track/", resident.track, name="track"),
    path("track/<str:code>/", resident.track_code, name="track_code"),
    path("track/<str:code>/rate/", resident.track_rate, name="track_rate"),
    # centre
    path("centre/", work.centre, name="centre"),
    path("centre/queue/<str:name>/", work.centre_queue, name="centre_queue"),
    path("centre/map/", work.centre_map, name="centre_map"),
    path("agent/", work.agent, name="agent"),
    path("agent/caller/", work.agent_caller, name="agent_caller"),
    path("agent/answers/", work.agent_answers, name="agent_answers"),
    # grid worker
    path("grid/", work.grid_home, name="grid"),
    path("grid/tasks/", work.grid_tasks_view, name="grid_tasks"),
    path("grid/patrol/", work.grid_patrol, name="grid_patrol"),
    # department
    path("department/", work.department, name="department"),
    # a person's cases (a mediator, a leader owning the case)
    path("mine/", work.mine, name="mine"),
    # cases
    path("cases/", cases.case_list, name="cases"),
    path("cases/<str:code>/", cases.case_detail, name="case"),
    path("cases/<str:code>/act/<str:action>/", cases.case_act, name="case_act"),
    path("cases/<str:code>/parties/", cases.case_party_add, name="case_party_add"),
    path("cases/<str:code>/parties/<int:party_id>/reveal/", cases.case_party_reveal, name="case_party_reveal"),
    path("cases/<str:code>/photos/<str:sha>/", cases.case_photo, name="case_photo"),
    # the auditor's desk (read only)
    path("audit/", audit.audit_desk, name="audit_desk"),
    path("cases/<str:code>/documents/<int:document>/v<int:number>/", cases.case_document, name="case_document"),
    path("cases/<str:code>/deliveries/<int:delivery>/proof/", cases.case_delivery_proof, name="case_delivery_proof"),
    # dashboard
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/export.<str:fmt>", dashboard.dashboard_export, name="dashboard_export"),
]
