from civicgrid.disputes.tests.conftest import register


def test_smoke(mediation):
    case = register(mediation.cast.bob)
    assert case.state == "registered"
