"""Unknown API routes answer in the API's own error shape."""

from .endpoints import sandbox_view
from .http import json_response, problem


@sandbox_view
def v2_not_found(request):
    return problem(404, "Not Found", f"No resource at {request.path}.", instance=request.path)


@sandbox_view
def v1_not_found(request):
    return json_response(
        {"success": False, "data": None, "validation": {"summary": "No such resource."}},
        status=404,
    )
