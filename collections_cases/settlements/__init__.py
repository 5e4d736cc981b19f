"""Settlements (oppgjør) to creditors: what was collected and not yet paid out, per creditor,
with a statement, a payout instruction and the posting lines for the creditor's books."""
