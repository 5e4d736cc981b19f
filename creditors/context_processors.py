from creditors.selectors import creditor_choices_for_request


def active_creditor(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # One query for both (and none when the view already asked, e.g. the Saker list).
    creditors, active = creditor_choices_for_request(request)
    return {"user_creditors": creditors, "active_creditor": active}
