import llmtap as litellm
from llmtap.integrations.custom_logger import CustomLogger
from llmtap import acompletion

class MyCustomHandler(CustomLogger):
    #### ASYNC ####



    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        print(f"On Async Success")

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        print(f"On Async Failure")

import asyncio
customHandler = MyCustomHandler()

litellm.callbacks = [customHandler]

async def completion():  # seed typo: "def async completion()"
    response = await acompletion(model="gpt-3.5-turbo", messages=[{ "role": "user", "content": "Hi 👋 - i'm openai"}],
                              stream=True)
    async for chunk in response:
        continue
asyncio.run(completion())
