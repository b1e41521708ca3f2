# The guide's function behind an HTTP API: the query string arrives in the event's
# queryStringParameters (payload 2.0) rather than through a mapping template. The answer, a bare
# number, is sent back as a 200 JSON body: "10".
def lambda_handler(event, context):
    params = event.get('queryStringParameters') or event
    try:
        num = int(params['num'])
        return num + 5
    except:  # noqa: E722 - the guide's own style
        return 0
