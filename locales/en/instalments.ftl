### Settings › Instalments: a shop's offer of payment in instalments.

subnav-instalments = Instalments
instalments-title = Payment in instalments
instalments-intro = Buyers may split a payment into several card charges: the first is charged when they pay, the others automatically on their due dates, with the same card.
instalments-example_title = What a buyer sees
instalments-example = Example for { $total } in { $count }:
instalments-example_today = { $amount } today
instalments-example_on = { $amount } on { $date }
instalments-offer = Offer
instalments-enabled = Offer payment in instalments on the pay page
instalments-enabled_hint = Never offered for invoice orders, nor when a due date would fall after the card's expiry or after the order's "instalments until" date.
instalments-max_count = Number of instalments
instalments-max_count_hint = From 2 to 12. The buyer chooses between paying at once and paying in this many instalments.
instalments-first_share_percent = First instalment (% of the total)
instalments-first_share_percent_hint = Leave empty to split the total equally. With 50, half the total is charged at once and the rest is split equally over the other instalments. A cent left over by rounding goes on the last instalment.
instalments-min_amount = Minimum amount
instalments-min_amount_hint = Smaller payments are paid at once. In the order's currency, for example 50.00; empty or 0 for no minimum.
instalments-interval = Interval between instalments
instalments-interval_hint = "monthly": the same day each month (the last day of a shorter month), or a number of days from 1 to 365.
instalments-retry_days = Retries of a refused instalment (days)
instalments-retry_days_hint = When a later instalment is refused, it is tried again this many days after its due date: "1,3" tries the next day, then 3 days after. Up to 5 numbers from 1 to 30, in increasing order; empty for no retry.
instalments-save = Save
instalments-saved = Instalment settings saved.

## Refusals of the form.

instalments-max_count-range = Enter a number of instalments from 2 to 12.
instalments-first_share_percent-range = Enter a percentage from 1 to 99, or leave empty for an equal split.
instalments-min_amount-invalid = Enter an amount such as 50.00 or 50,00 (two decimals at most).
instalments-interval-invalid = Enter "monthly" or a number of days from 1 to 365.
instalments-retry_days-invalid = Enter up to 5 numbers of days from 1 to 30 in increasing order, separated by commas (for example 1,3).
