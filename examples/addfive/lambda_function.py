# The guide's function, unchanged: the number in event['num'] plus five, or 0 when it is not one.
def lambda_handler(event, context):
    try:
        num = int(event['num'])
        return num + 5
    except:  # noqa: E722 - the guide's own code
        return 0
