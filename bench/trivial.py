"""The least a webhook endpoint can do under our gunicorn settings: read the body, answer 202.

`make bench` runs it first, on the same machine and with the same server configuration, so the
figures for Pulseboard can be read as a share of what the HTTP stack itself allows here.
"""

BODY = b'{"success":true,"message":"Event accepted"}'


def app(environ, start_response):
    environ["wsgi.input"].read()
    start_response("202 Accepted", [("Content-Type", "application/json"),
                                    ("Content-Length", str(len(BODY)))])
    return [BODY]
