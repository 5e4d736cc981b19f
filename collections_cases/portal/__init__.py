"""Min side: the debtor's public pages (look up a case with its number and KID, see it, object,
ask for a payment plan), and the Kundeweb views that decide payment plans."""
