# The app wallet (seed 004: Payconiq through Monext, now Bancontact): the names page and
# the TEST simulator. Buyer pages: the same keys in the five languages.
app-title = Pay with { $service }
app-intro = { $service } asks for your first and last name. You then confirm the payment in your { $service } app.
app-first_name = First name
app-last_name = Last name
app-continue = Continue to { $service }
app-names_hint = Your name goes with the payment request, as the payment service requires.
app-other_way = Pay another way
app-fix_fields = The payment request was not sent: correct the fields marked below.
app-name-too_long = At most 64 characters.
app-name-invalid = This name holds a character that cannot be used.
app-amount-invalid = Invalid value for the amount (code 02308): it must be more than zero and no more than the order's amount.
app-amount-partial = This link is paid in one payment of the order's full amount.
app-production_unavailable = Payment with the app is not available yet for this shop. Go back to the payment page to pay another way.
app-simulator-title = { $service } — TEST simulator
app-simulator-notice = This is paylink's TEST simulator of { $service }: no app opens and no money moves. Choose the outcome to simulate.
app-simulator-session = Paying as { $buyer }. The session ends at { $until }.
app-simulator-pay = MAKE A PAYMENT
app-simulator-abort = ABORT
app-simulator-hint = MAKE A PAYMENT is accepted (code 00000); ABORT cancels the payment (code 02008). After 15 minutes the session expires (code 02324).
