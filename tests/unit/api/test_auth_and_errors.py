"""Tokens only in the Authorization header; every error as problem+json in plain words."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from services.access import api_tokens, users
from services.settings import reset_settings_cache
from services.store.db import session_scope
from tests.unit.api.conftest import Api, People, problem_of


def test_health_needs_no_token_and_tells_no_secrets(api: Api) -> None:
    response = api.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "api_version": "1", "parts": {
        "store": "ok", "data_folder": "ok", "runner": "ok", "queue": "not_configured"}}


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer"}, {"Authorization": "Bearer rdk_not-a-real-token-at-all-x"},
    {"Authorization": "Basic YWRhOnNlY3JldA=="}, {"Authorization": "rdk_xxxxxxxxxxxxxxxxxxxxxxx"},
    {"Authorization": "Bearer " + "x" * 5000},
])
def test_missing_or_malformed_tokens_get_401(api: Api, people: People,
                                             headers: dict[str, str]) -> None:
    detail = problem_of(api.get("/v1/datasets", headers=headers), 401)
    assert "token" in detail.lower()


def test_revoked_expired_and_disabled_tokens_get_401(api: Api, people: People) -> None:
    token = people.token(people.analyst)
    assert api.get("/v1/datasets", token=token).status_code == 200
    users.set_disabled(people.admin, "bob", True)
    problem_of(api.get("/v1/datasets", token=token), 401)
    users.set_disabled(people.admin, "bob", False)
    # enabling the account again does not bring back its old tokens (issue 18, point 8)
    problem_of(api.get("/v1/datasets", token=token), 401)
    token = api_tokens.create_token(people.analyst, "after").secret
    assert api.get("/v1/datasets", token=token).status_code == 200
    api_tokens.revoke_all(people.admin, "bob")
    problem_of(api.get("/v1/datasets", token=token), 401)
    expiring = api_tokens.create_token(people.other, "short", expires_in_days=1)
    from datetime import timedelta

    from services.store.db import session_scope
    from services.store.models import ApiToken, utcnow
    with session_scope(write=True) as session:
        session.get(ApiToken, expiring.token.id).expires_at = utcnow() - timedelta(minutes=1)
    assert "expired" in problem_of(api.get("/v1/datasets", token=expiring.secret), 401)


@pytest.mark.parametrize("query", ["token", "access_token", "api_key", "anything"])
def test_a_token_in_the_address_is_refused(api: Api, people: People, query: str) -> None:
    secret = people.token(people.analyst)
    response = api.get(f"/v1/datasets?{query}={secret}")
    assert "Authorization header" in problem_of(response, 401)
    # refused even alongside a valid header: the address has already leaked it
    response = api.get(f"/v1/datasets?{query}={secret}", token=secret)
    assert "Authorization header" in problem_of(response, 401)


def test_over_the_rate_limit_gets_429_with_retry_after(api: Api, people: People,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_API_REQUESTS_PER_MINUTE", "3")
    reset_settings_cache()
    token = people.token(people.analyst)
    assert [api.get("/v1/datasets", token=token).status_code for _ in range(3)] == [200] * 3
    response = api.get("/v1/datasets", token=token)
    assert "too many requests" in problem_of(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # another person's token has its own allowance
    assert api.get("/v1/datasets", token=people.token(people.other)).status_code == 200


def _hits(subject: str) -> int:
    with session_scope() as session:
        return int(session.scalar(text("SELECT hits FROM rate_counts WHERE subject = :s"),
                                  {"s": subject}) or 0)


def test_the_limit_is_per_person_all_tokens_together_and_kept_in_the_store(
        api: Api, people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_API_REQUESTS_PER_MINUTE", "4")
    reset_settings_cache()
    tokens = [people.token(people.analyst)] + [
        api_tokens.create_token(people.analyst, f"extra {i}").secret for i in range(3)]
    assert [api.get("/v1/datasets", token=t).status_code for t in tokens] == [200] * 4
    response = api.get("/v1/datasets", token=api_tokens.create_token(people.analyst, "new").secret)
    detail = problem_of(response, 429)
    assert "all your tokens together" in detail and int(response.headers["Retry-After"]) >= 1
    assert _hits("api person bob") == 5  # in the metadata store, which every server shares
    assert api.get("/v1/datasets", token=people.token(people.other)).status_code == 200


def test_requests_at_once_never_pass_the_limit(api: Api, people: People,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_API_REQUESTS_PER_MINUTE", "6")
    reset_settings_cache()
    token = people.token(people.analyst)
    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(lambda _: api.get("/v1/datasets", token=token).status_code,
                              range(12)))
    assert sorted(codes) == [200] * 6 + [429] * 6


def test_invalid_tokens_count_against_the_address(api: Api, people: People,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_API_BAD_TOKENS_PER_MINUTE", "5")
    reset_settings_cache()
    guess = "rdk_" + "x" * 43
    codes = [api.get("/v1/datasets", token=guess).status_code for _ in range(7)]
    assert codes == [401] * 5 + [429] * 2
    response = api.get("/v1/datasets", token=guess)
    assert "without a valid token" in problem_of(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # the address waits before any token is checked, a real one too (a guess that hit
    # would otherwise stand out); X-Forwarded-For is not believed unless trusted
    assert api.get("/v1/datasets", token=people.token(people.analyst)).status_code == 429
    spoofed = {"X-Forwarded-For": "198.51.100.7"}
    assert api.get("/v1/datasets", token=guess, headers=spoofed).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
        api: Api, people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_API_BAD_TOKENS_PER_MINUTE", "2")
    monkeypatch.setenv("RESEARCH_DESK_TRUST_FORWARDED_FOR", "1")
    reset_settings_cache()
    guesser = {"X-Forwarded-For": "10.9.9.9, 203.0.113.9"}  # the proxy added the last one
    codes = [api.get("/v1/datasets", headers=guesser).status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    colleague = {"X-Forwarded-For": "198.51.100.7"}  # same proxy, another person
    assert api.get("/v1/datasets", token=people.token(people.analyst),
                   headers=colleague).status_code == 200


def test_unknown_addresses_and_methods_are_problems(api: Api, people: People) -> None:
    problem_of(api.get("/v1/nothing-here", token=people.token(people.analyst)), 404)
    problem_of(api.request("DELETE", "/v1/health"), 405)


def test_openapi_document_and_docs(api: Api) -> None:
    document = api.get("/openapi.json").json()
    assert document["info"]["title"] == "Research Desk API"
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert operation.get("summary"), (method, path)
            if path not in ("/v1/health", "/v1/health/ready"):  # anyone may ask
                assert {"401", "403", "404", "422", "429"} <= set(operation["responses"])
                assert "application/problem+json" in operation["responses"]["401"]["content"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_docs_load_swagger_ui_from_the_package_not_a_cdn(api: Api) -> None:
    docs = api.get("/docs").text
    assert "http://" not in docs and "https://" not in docs  # nothing fetched from elsewhere
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"):
        assert f"/docs-assets/{asset}" in docs
        served = api.get(f"/docs-assets/{asset}")
        assert served.status_code == 200 and len(served.content) > 1000, asset
