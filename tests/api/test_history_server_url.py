"""An `app_id` request names an application of the configured History Server."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("base, app_id, expected_base", [
    ("http://shs.internal:18080", "app-1", "http://shs.internal:18080"),
    ("https://shs.internal:18480/", "app-1/2", "https://shs.internal:18480"),
    ("shs://shs.internal:18080", "app-1", "http://shs.internal:18080"),
])
def test_history_server_app_ids_name_the_configured_server(base, app_id, expected_base):
    from copilot.api.runner import history_server_log_url
    from tools.sources.shs import parse_shs_url

    target = parse_shs_url(history_server_log_url(base, app_id))
    assert target.base_url == expected_base
    assert [target.app_id, target.attempt_id] == (app_id.split("/") + [None])[:2]
