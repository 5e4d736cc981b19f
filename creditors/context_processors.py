from creditors.selectors import creditor_header_for_request


def active_creditor(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # The view's own read when it made one (the Saker list), else names from the cache.
    creditors, active = creditor_header_for_request(request)
    return {"user_creditors": creditors, "active_creditor": active}
