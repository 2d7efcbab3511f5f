"""The peer's Router examples (docs/my-website/docs/routing.md), run with only the import changed.

Each example reads its keys and endpoints from the environment, as written; the environment
points them at the emulator (Azure and OpenAI routes).
"""

from __future__ import annotations

import asyncio
import os

import pytest

import llmtap as litellm
from llmtap import Router


@pytest.fixture
def env(emulator, monkeypatch):
    monkeypatch.setenv("AZURE_API_KEY", "azure-doc-key-123456")
    monkeypatch.setenv("AZURE_API_BASE", emulator.azure_base)
    monkeypatch.setenv("AZURE_API_VERSION", "2024-10-21")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-doc-key-123456")
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.openai_base)
    return emulator


def test_quick_start(env):
    model_list = [{ # list of model deployments
        "model_name": "gpt-3.5-turbo", # model alias -> loadbalance between models with same `model_name`
        "litellm_params": { # params for litellm completion/embedding call
            "model": "azure/chatgpt-v-2", # actual model name
            "api_key": os.getenv("AZURE_API_KEY"),
            "api_version": os.getenv("AZURE_API_VERSION"),
            "api_base": os.getenv("AZURE_API_BASE")
        }
    }, {
        "model_name": "gpt-3.5-turbo",
        "litellm_params": { # params for litellm completion/embedding call
            "model": "azure/chatgpt-functioncalling",
            "api_key": os.getenv("AZURE_API_KEY"),
            "api_version": os.getenv("AZURE_API_VERSION"),
            "api_base": os.getenv("AZURE_API_BASE")
        }
    }, {
        "model_name": "gpt-3.5-turbo",
        "litellm_params": { # params for litellm completion/embedding call
            "model": "gpt-3.5-turbo",
            "api_key": os.getenv("OPENAI_API_KEY"),
        }
    }, {
        "model_name": "gpt-4",
        "litellm_params": { # params for litellm completion/embedding call
            "model": "azure/gpt-4",
            "api_key": os.getenv("AZURE_API_KEY"),
            "api_base": os.getenv("AZURE_API_BASE"),
            "api_version": os.getenv("AZURE_API_VERSION"),
        }
    }, {
        "model_name": "gpt-4",
        "litellm_params": { # params for litellm completion/embedding call
            "model": "gpt-4",
            "api_key": os.getenv("OPENAI_API_KEY"),
        }
    },

    ]

    router = Router(model_list=model_list)

    async def main():
        # requests with model="gpt-3.5-turbo" will pick a deployment where model_name="gpt-3.5-turbo"
        response = await router.acompletion(model="gpt-3.5-turbo",
                        messages=[{"role": "user", "content": "Hey, how's it going?"}])
        print(response)
        # requests with model="gpt-4" will pick a deployment where model_name="gpt-4"
        response = await router.acompletion(model="gpt-4",
                        messages=[{"role": "user", "content": "Hey, how's it going?"}])
        print(response)
        return response

    assert asyncio.run(main()).choices[0].message.content
    assert len(env.requests) == 2


def test_weighted_pick(env):
    model_list = [{
        "model_name": "gpt-3.5-turbo", # model alias
        "litellm_params": {
            "model": "azure/chatgpt-v-2", # actual model name
            "api_key": os.getenv("AZURE_API_KEY"),
            "api_version": os.getenv("AZURE_API_VERSION"),
            "api_base": os.getenv("AZURE_API_BASE"),
            "weight": 9, # pick this 90% of the time
        }
    }, {
        "model_name": "gpt-3.5-turbo",
        "litellm_params": {
            "model": "azure/chatgpt-functioncalling",
            "api_key": os.getenv("AZURE_API_KEY"),
            "api_version": os.getenv("AZURE_API_VERSION"),
            "api_base": os.getenv("AZURE_API_BASE"),
            "weight": 1,
        }
    }]

    # init router
    router = Router(model_list=model_list, routing_strategy="simple-shuffle")
    async def router_acompletion():
        response = await router.acompletion(
            model="gpt-3.5-turbo",
            messages=[{"role": "user", "content": "Hey, how's it going?"}]
        )
        print(response)
        return response

    for _ in range(40):
        asyncio.run(router_acompletion())
    heavy = sum(1 for r in env.requests if r.deployment == "chatgpt-v-2")
    assert heavy >= 28  # 90% expected


def test_cost_based_routing(env):
    model_list = [
        {
            "model_name": "gpt-3.5-turbo",
            "litellm_params": {
                "model": "azure/chatgpt-v-2",
                "input_cost_per_token": 0.00003,
                "output_cost_per_token": 0.00003,
            },
            "model_info": {"id": "chatgpt-v-experimental"},
        },
        {
            "model_name": "gpt-3.5-turbo",
            "litellm_params": {
                "model": "azure/chatgpt-v-1",
                "input_cost_per_token": 0.000000001,
                "output_cost_per_token": 0.00000001,
            },
            "model_info": {"id": "chatgpt-v-1"},
        },
        {
            "model_name": "gpt-3.5-turbo",
            "litellm_params": {
                "model": "azure/chatgpt-v-5",
                "input_cost_per_token": 10,
                "output_cost_per_token": 12,
            },
            "model_info": {"id": "chatgpt-v-5"},
        },
    ]
    # init router
    router = Router(model_list=model_list, routing_strategy="cost-based-routing")
    async def router_acompletion():
        response = await router.acompletion(
            model="gpt-3.5-turbo",
            messages=[{"role": "user", "content": "Hey, how's it going?"}]
        )
        print(response)

        print(response._hidden_params["model_id"]) # expect chatgpt-v-1, since chatgpt-v-1 has lowest cost
        return response

    assert asyncio.run(router_acompletion())._hidden_params["model_id"] == "chatgpt-v-1"


def test_cooldowns_and_retries(env):
    model_list = [{"model_name": "gpt-3.5-turbo", "litellm_params": {"model": "gpt-3.5-turbo", "api_key": os.getenv("OPENAI_API_KEY")}}]
    router = Router(model_list=model_list,
                    allowed_fails=1,      # cooldown model if it fails > 1 call in a minute.
                    cooldown_time=100    # cooldown the deployment for 100 seconds if it num_fails > allowed_fails
            )

    user_message = "Hello, whats the weather in San Francisco??"
    messages = [{"content": user_message, "role": "user"}]

    # normal call
    response = router.completion(model="gpt-3.5-turbo", messages=messages)

    print(f"response: {response}")

    router = Router(model_list=model_list,
                    num_retries=3, retry_after=0.01) # waits min 5s before retrying request
    from llmtap.testing import Fault

    env.push(Fault(500))
    response = router.completion(model="gpt-3.5-turbo", messages=messages)
    print(f"response: {response}")
    assert len(env.requests) == 3


def test_retry_policy_and_allowed_fails_policy(env):
    from llmtap.router import AllowedFailsPolicy, RetryPolicy

    retry_policy = RetryPolicy(
        ContentPolicyViolationErrorRetries=3,         # run 3 retries for ContentPolicyViolationErrors
        AuthenticationErrorRetries=0,		          # run 0 retries for AuthenticationErrorRetries
        BadRequestErrorRetries=1,
        TimeoutErrorRetries=2,
        RateLimitErrorRetries=3,
    )

    allowed_fails_policy = AllowedFailsPolicy(
        ContentPolicyViolationErrorAllowedFails=1000, # Allow 1000 ContentPolicyViolationError before cooling down a deployment
        RateLimitErrorAllowedFails=100,               # Allow 100 RateLimitErrors before cooling down a deployment
    )

    router = litellm.Router(
        model_list=[
            {
                "model_name": "gpt-3.5-turbo",  # openai model name
                "litellm_params": {  # params for litellm completion/embedding call
                    "model": "azure/chatgpt-v-2",
                    "api_key": os.getenv("AZURE_API_KEY"),
                    "api_version": os.getenv("AZURE_API_VERSION"),
                    "api_base": os.getenv("AZURE_API_BASE"),
                },
            },
            {
                "model_name": "bad-model",  # openai model name
                "litellm_params": {  # params for litellm completion/embedding call
                    "model": "azure/chatgpt-v-2",
                    "api_key": "bad-key",
                    "api_version": os.getenv("AZURE_API_VERSION"),
                    "api_base": os.getenv("AZURE_API_BASE"),
                },
            },
        ],
        retry_policy=retry_policy,
        allowed_fails_policy=allowed_fails_policy,
    )
    from llmtap.testing import Fault

    env.push(Fault.content_policy(), Fault.content_policy())
    model, messages = "gpt-3.5-turbo", [{"role": "user", "content": "hi"}]

    async def main():
        return await router.acompletion(
            model=model,
            messages=messages,
        )

    assert asyncio.run(main()).choices[0].message.content
    assert len(env.requests) == 3  # two content-policy errors retried (3 allowed)


def test_client_side_fallbacks(env):
    router = Router(model_list=[
        {"model_name": "gpt-5.6-luna", "litellm_params": {"model": "gpt-4o", "api_key": os.getenv("OPENAI_API_KEY")}},
        {"model_name": "claude-sonnet-5", "litellm_params": {"model": "gpt-4o-mini", "api_key": os.getenv("OPENAI_API_KEY")}},
    ])
    resp = router.completion(
        model="gpt-5.6-luna",
        messages=[{"role": "user", "content": "Hey, how's it going?"}],
        mock_testing_fallbacks=True, # 👈 trigger fallbacks
        fallbacks=[
            {
                "model": "claude-sonnet-5",
                "messages": [{"role": "user", "content": "What is LiteLLM?"}],
            }
        ],
    )
    print(resp)
    assert env.requests[-1].json["messages"] == [{"role": "user", "content": "What is LiteLLM?"}]
    assert env.requests[-1].json["model"] == "gpt-4o-mini"
