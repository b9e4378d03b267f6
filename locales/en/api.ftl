### REST API error messages: the API's own codes (`api.<code>`) and the refusals only the API
### gives. The English text is the `message` of the JSON error envelope.

api-unauthorized = Missing or wrong credentials: use HTTP Basic with the shop id and one of its API keys.
api-not_found = Not found for this shop and mode.
api-method_not_allowed = This HTTP method is not supported on this path.
api-payload_too_large = The request body is too large.
api-invalid_json = The request body must be a valid JSON object.
api-unknown_field = There is no such field (see the OpenAPI document).
api-invalid_type = This field has the wrong type (see the OpenAPI document).
api-invalid_request = Request refused.
api-invalid_query = The query string cannot be read.
api-bad_request = The request could not be understood.
api-csv_expected = Send the file with Content-Type: text/csv.
api-idempotency_key_invalid = The Idempotency-Key header must be 1 to 255 printable ASCII characters.
api-idempotency_key_reused = This Idempotency-Key was already used with another request.
api-idempotency_in_progress = A request with this Idempotency-Key is still running; retry in a moment.
api-forbidden = This action is not allowed.
api-internal_error = An unexpected error occurred and was logged. Try again in a moment.
amount-not_integer = The amount is a whole number of minor units (1500 for 15.00 EUR), from 1 to 99,999,999,999.
datetime-invalid = Enter an RFC 3339 date-time (2026-06-15T10:00:00Z) or a date (2026-06-15).
limit-invalid = Enter a number from 1 to 200.
cursor-invalid = This cursor is not valid: pass the next_cursor of a previous page.
patch-empty = Give at least one field to change: expires_at, amount or reference.
events-delivery_invalid = Give delivery=failed, or leave it out.
