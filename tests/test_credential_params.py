"""Credential-like parameters the peer understands are used for auth or refused: never sent as
body fields, never shown in callbacks or errors (issue #13 item 15)."""

from __future__ import annotations

import pytest

import llmtap

from .secret_outputs import Seen

USER = [{"role": "user", "content": "Hi"}]
SECRET = "eyJ0eXAiOiJKV1QiLCJhbGciOi.secret-ad-token-value"


@pytest.mark.parametrize("param", ["azure_ad_token", "aws_secret_access_key", "vertex_credentials", "client_secret"])
def test_a_provider_that_does_not_use_a_credential_refuses_it(openai_env, param) -> None:
    seen = Seen()
    llmtap.callbacks = [seen]
    with pytest.raises(llmtap.UnsupportedParamsError, match=param) as caught:
        llmtap.completion(model="gpt-4o-mini", messages=USER, **{param: SECRET})
    assert SECRET not in str(caught.value)
    assert openai_env.requests == []
    # drop_params=True drops it: the call goes out without it, and nothing shows it.
    llmtap.completion(model="gpt-4o-mini", messages=USER, drop_params=True, **{param: SECRET})
    llmtap.flush()
    request = openai_env.last_request
    assert param not in request.json and SECRET.encode() not in request.body
    assert all(SECRET not in text for text in seen.texts) and seen.texts


def test_wrong_type_is_refused_without_showing_the_value(openai_env) -> None:
    with pytest.raises(llmtap.BadRequestError, match="azure_ad_token") as caught:
        llmtap.completion(model="gpt-4o-mini", messages=USER, azure_ad_token=12345678987654321)
    assert "12345678987654321" not in str(caught.value)
    with pytest.raises(llmtap.BadRequestError, match="is empty"):
        llmtap.completion(model="gpt-4o-mini", messages=USER, azure_ad_token="  \n")
    assert openai_env.requests == []
