import llmtap as litellm
from llmtap import completion

messages = [{"role": "user", "content": "Hi 👋 - i'm claude"}]  # the guide leaves `messages` to the reader

# litellm.set_verbose = False
def custom_callback(
    kwargs,                 # kwargs to completion
    completion_response,    # response from completion
    start_time, end_time    # start/end time
):
    # print(f"streaming response: {completion_response}")
    if "complete_streaming_response" in kwargs:
        print(f"Complete Streaming Response: {kwargs['complete_streaming_response']}")

# Assign the custom callback function
litellm.success_callback = [custom_callback]

response = completion(model="claude-instant-1", messages=messages, stream=True)
for idx, chunk in enumerate(response):
    pass
