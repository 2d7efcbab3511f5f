import asyncio, os, time
import llmtap as litellm
from llmtap.integrations.custom_logger import CustomLogger
from llmtap import completion, acompletion, Cache

class MyCustomHandler(CustomLogger):
    # The guide's test reads .states and .errors; this is how its handler keeps them.
    def __init__(self):
        self.states = []
        self.errors = []

    def log_pre_api_call(self, model, messages, kwargs):
        self.states.append("pre_api_call")

    def log_post_api_call(self, kwargs, response_obj, start_time, end_time):
        self.states.append("post_api_call")

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        print(f"On Success")
        print(f"Value of Cache hit: {kwargs['cache_hit']}")  # seed typo: the quote was after the brace
        self.states.append("async_success")

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.errors.append(kwargs["exception"])

async def test_async_completion_azure_caching():
    customHandler_caching = MyCustomHandler()
    litellm.cache = Cache(type="redis", host=os.environ['REDIS_HOST'], port=os.environ['REDIS_PORT'], password=os.environ['REDIS_PASSWORD'])
    litellm.callbacks = [customHandler_caching]
    unique_time = time.time()
    response1 = await litellm.acompletion(model="azure/chatgpt-v-2",
                            messages=[{
                                "role": "user",
                                "content": f"Hi 👋 - i'm async azure {unique_time}"
                            }],
                            caching=True)
    await asyncio.sleep(1)
    print(f"customHandler_caching.states pre-cache hit: {customHandler_caching.states}")
    response2 = await litellm.acompletion(model="azure/chatgpt-v-2",
                            messages=[{
                                "role": "user",
                                "content": f"Hi 👋 - i'm async azure {unique_time}"
                            }],
                            caching=True)
    await asyncio.sleep(1) # success callbacks are done in parallel
    print(f"customHandler_caching.states post-cache hit: {customHandler_caching.states}")
    assert len(customHandler_caching.errors) == 0
    assert len(customHandler_caching.states) == 4 # pre, post, success, success

asyncio.run(test_async_completion_azure_caching())
