### REST API error messages: the API's own codes (`api.<code>`) and the refusals only the API
### gives. The English text is the `message` of the JSON error envelope.

api-unauthorized = Identifiants absents ou incorrects : authentifiez-vous en HTTP Basic avec l'identifiant de la boutique et sa clé d'API.
api-not_found = Ressource introuvable pour cette boutique et ce mode.
api-method_not_allowed = Méthode HTTP non prise en charge pour cette adresse.
api-payload_too_large = Le corps de la requête est trop volumineux.
api-invalid_json = Le corps de la requête doit être un objet JSON valide.
api-unknown_field = Ce champ n'existe pas (voir le document OpenAPI).
api-invalid_type = Ce champ n'a pas le bon type (voir le document OpenAPI).
api-invalid_request = Requête refusée.
api-invalid_query = Les paramètres de l'adresse ne sont pas lisibles.
api-bad_request = La requête n'a pas pu être comprise.
api-csv_expected = Envoyez le fichier avec Content-Type: text/csv.
api-idempotency_key_invalid = L'en-tête Idempotency-Key doit compter de 1 à 255 caractères ASCII imprimables.
api-idempotency_key_reused = Cette clé d'idempotence a déjà servi pour une autre requête.
api-idempotency_in_progress = Une requête avec cette clé d'idempotence est encore en cours ; réessayez dans un instant.
api-forbidden = Action non autorisée.
api-internal_error = Une erreur inattendue s'est produite ; elle a été enregistrée. Réessayez dans un instant.
amount-not_integer = Le montant est un nombre entier d'unités mineures (1500 pour 15,00 EUR), entre 1 et 99 999 999 999.
datetime-invalid = Indiquez une date-heure RFC 3339 (2026-06-15T10:00:00Z) ou une date (2026-06-15).
limit-invalid = Indiquez un nombre entre 1 et 200.
cursor-invalid = Ce curseur n'est pas valide : reprenez le next_cursor d'une page précédente.
patch-empty = Indiquez au moins un champ à modifier : expires_at, amount ou reference.
events-delivery_invalid = Indiquez delivery=failed, ou rien.
