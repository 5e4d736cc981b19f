from creditors.selectors import creditor_active_for_request, creditor_list_for_user


def active_creditor(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "user_creditors": creditor_list_for_user(user=user),
        "active_creditor": creditor_active_for_request(request),
    }
