"""The HTTP API (`copilot serve`): the same analysis as JSON for other programs.

`create_app(settings)` in `copilot.api.app` builds the FastAPI app; this package's
`__init__` stays import-free because the settings module imports `copilot.api.settings`.
"""
