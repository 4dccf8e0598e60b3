"""What is checked and added around every request before the app sees it, one concern a module. Pure
ASGI middleware (BaseHTTPMiddleware would cost a task and a stream copy per request).

Wired in create_app, outermost first: TrustedProxyMiddleware (only when a proxy is trusted) →
SecurityHeadersMiddleware → RequestContextMiddleware → RequestLimitsMiddleware → the app. So the
scheme and client address are the proxy's word before anything reads them, the 500 of the last resort
carries the security headers, and a 413 or a too-deep 422 carries the request id and is logged.
"""
