//! REST API error messages: the API's own codes (`api.<code>`) and the refusals only the API
//! gives. The English text is the `message` of the JSON error envelope.

super::messages! {
    "api.unauthorized" => "Identifiants absents ou incorrects : authentifiez-vous en HTTP Basic avec l'identifiant de la boutique et sa clé d'API.", "Missing or wrong credentials: use HTTP Basic with the shop id and one of its API keys.";
    "api.not_found" => "Ressource introuvable pour cette boutique et ce mode.", "Not found for this shop and mode.";
    "api.method_not_allowed" => "Méthode HTTP non prise en charge pour cette adresse.", "This HTTP method is not supported on this path.";
    "api.payload_too_large" => "Le corps de la requête est trop volumineux.", "The request body is too large.";
    "api.invalid_json" => "Le corps de la requête doit être un objet JSON valide.", "The request body must be a valid JSON object.";
    "api.unknown_field" => "Ce champ n'existe pas (voir le document OpenAPI).", "There is no such field (see the OpenAPI document).";
    "api.invalid_type" => "Ce champ n'a pas le bon type (voir le document OpenAPI).", "This field has the wrong type (see the OpenAPI document).";
    "api.invalid_request" => "Requête refusée.", "Request refused.";
    "api.invalid_query" => "Les paramètres de l'adresse ne sont pas lisibles.", "The query string cannot be read.";
    "api.bad_request" => "La requête n'a pas pu être comprise.", "The request could not be understood.";
    "api.idempotency_key_invalid" => "L'en-tête Idempotency-Key doit compter de 1 à 255 caractères ASCII imprimables.", "The Idempotency-Key header must be 1 to 255 printable ASCII characters.";
    "api.idempotency_key_reused" => "Cette clé d'idempotence a déjà servi pour une autre requête.", "This Idempotency-Key was already used with another request.";
    "api.idempotency_in_progress" => "Une requête avec cette clé d'idempotence est encore en cours ; réessayez dans un instant.", "A request with this Idempotency-Key is still running; retry in a moment.";
    "api.forbidden" => "Action non autorisée.", "This action is not allowed.";
    "api.internal_error" => "Une erreur inattendue s'est produite ; elle a été enregistrée. Réessayez dans un instant.", "An unexpected error occurred and was logged. Try again in a moment.";
    "amount.not_integer" => "Le montant est un nombre entier d'unités mineures (1500 pour 15,00 EUR), entre 1 et 99 999 999 999.", "The amount is a whole number of minor units (1500 for 15.00 EUR), from 1 to 99,999,999,999.";
    "datetime.invalid" => "Indiquez une date-heure RFC 3339 (2026-06-15T10:00:00Z) ou une date (2026-06-15).", "Enter an RFC 3339 date-time (2026-06-15T10:00:00Z) or a date (2026-06-15).";
    "limit.invalid" => "Indiquez un nombre entre 1 et 200.", "Enter a number from 1 to 200.";
    "cursor.invalid" => "Ce curseur n'est pas valide : reprenez le next_cursor d'une page précédente.", "This cursor is not valid: pass the next_cursor of a previous page.";
    "patch.empty" => "Indiquez au moins un champ à modifier : expires_at, amount ou reference.", "Give at least one field to change: expires_at, amount or reference.";
}
