//! Refusals of the domain and the services (field errors and conflicts), shared by the
//! forms and the API's `message`.

super::messages! {
    "currency.invalid" => "Choisissez une devise ISO 4217 (par exemple EUR).", "Choose an ISO 4217 currency (for example EUR).";
    "amount.invalid" => "Indiquez un montant comme 15,00 ou 15.00.", "Enter an amount such as 15.00 or 15,00.";
    "amount.out_of_range" => "Le montant doit être positif et au plus 999 999 999,99.", "The amount must be positive and at most 999,999,999.99.";
    "amount.too_many_decimals" => "Trop de décimales pour cette devise.", "Too many decimals for this currency.";
    "reference.too_long" => "64 caractères au plus.", "64 characters at most.";
    "reference.invalid" => "Lettres, chiffres, « - » et « _ » seulement.", "Letters, digits, \"-\" and \"_\" only.";
    "reference.invoice_taken" => "Une facture en cours porte déjà cette référence.", "An open invoice already has this reference.";
    "expires_on.invalid" => "Indiquez une date (jj/mm/aaaa).", "Enter a date (yyyy-mm-dd).";
    "expires_on.past" => "La date de fin de validité est passée.", "The end of validity is in the past.";
    "expires_on.too_far" => "La validité d'un lien ne peut dépasser 3 mois après sa création.", "A link cannot stay valid more than 3 months after its creation.";
    "recipients.invalid" => "Une adresse e-mail n'est pas valide (séparez-les par « ; »).", "An e-mail address is not valid (separate them with \";\").";
    "subject.invalid" => "Un objet d'une ligne, 200 caractères au plus.", "A one-line subject, 200 characters at most.";
    "sms.too_long" => "Un SMS ne peut dépasser 500 caractères.", "An SMS cannot exceed 500 characters.";
    "phone.invalid" => "Numéro de téléphone non valide.", "This phone number is not valid.";
    "sms.no_account" => "Configurez d'abord le compte SMS de la boutique (Paramétrage › SMS).", "Set up the shop's SMS account first (Settings › SMS).";
    "sms.no_credits" => "Crédits SMS insuffisants pour ce message.", "Not enough SMS credits for this message.";
    "sms.credits.invalid" => "Indiquez un nombre de crédits entre 0 et 10 000 000.", "Enter a number of credits between 0 and 10,000,000.";
    "order.alias_with_collection_form" => "L'enregistrement de la carte est impossible avec le formulaire de collecte.", "Saving the card is not possible with the collection form.";
    "order.alias_with_invoice" => "Un ordre de facture ne peut pas enregistrer la carte.", "An invoice order cannot save the card.";
    "order.action_not_allowed" => "Cette action n'est pas possible dans l'état actuel de l'ordre.", "This action is not possible in the order's current status.";
    "order.payment_in_progress" => "Un paiement est en cours sur cet ordre ; réessayez dans quelques minutes.", "A payment is under way on this order; try again in a few minutes.";
    "order.state_changed" => "L'ordre a changé entre-temps ; rechargez la page.", "The order changed meanwhile; reload the page.";
    "order.reactivate_expired" => "La date de validité est atteinte : modifiez-la plutôt que de réactiver l'ordre.", "The end of validity has passed: change it rather than reactivating the order.";
    "order.one_recipient" => "Un ordre existant a un seul destinataire.", "An existing order has a single recipient.";
    "order.not_running" => "Seul un ordre en cours peut être modifié ainsi.", "Only a running order can be changed this way.";
    "template.name.invalid" => "Indiquez un nom (80 caractères au plus).", "Enter a name (80 characters at most).";
    "error.conflict.title" => "Action impossible", "Action not possible";
    "card.number.invalid" => "Numéro de carte invalide : vérifiez les chiffres.", "Invalid card number: check the digits.";
    "card.brand.unsupported" => "Ce type de carte n'est pas accepté (Visa, Mastercard, CB, American Express).", "This kind of card is not accepted (Visa, Mastercard, CB, American Express).";
    "card.expiry.invalid" => "Date d'expiration invalide.", "Invalid expiry date.";
    "card.expiry.past" => "Cette carte est expirée.", "This card has expired.";
    "card.cvv.invalid" => "Le cryptogramme a 3 chiffres (4 pour American Express), au dos de la carte.", "The security code has 3 digits (4 for American Express), on the back of the card.";
    "payment.already_paid" => "Ce lien a déjà été réglé.", "This link has already been paid.";
    "payment.in_progress" => "Un paiement est déjà en cours pour ce lien. Patientez quelques instants puis rechargez la page.", "A payment is already in progress for this link. Wait a moment, then reload the page.";
    "transaction.not_to_validate" => "Cette transaction n'attend pas de validation.", "This transaction is not waiting for validation.";
    "transaction.not_capturable" => "Cette transaction ne peut pas être remise en banque.", "This transaction cannot be captured.";
    "transaction.already_captured" => "La transaction est déjà remise en banque (ou n'est plus autorisée).", "The transaction is already captured (or no longer authorised).";
    "transaction.not_captured" => "Seule une transaction remise en banque peut être remboursée ; avant, annulez-la.", "Only a captured transaction can be refunded; before capture, cancel it.";
    "refund.too_late" => "Un remboursement est possible jusqu'à 365 jours après la remise.", "A refund is possible up to 365 days after capture.";
    "refund.too_much" => "Le total remboursé ne peut dépasser le montant remis en banque.", "The total refunded cannot exceed the captured amount.";
    "capture_date.past" => "La date de remise ne peut pas être passée.", "The capture date cannot be in the past.";
    "capture_date.too_far" => "La date de remise est trop lointaine (365 jours au plus).", "The capture date is too far away (365 days at most).";
    "acquirer.unavailable" => "Aucun acquéreur n'est configuré pour ce mode.", "No acquirer is configured for this mode.";
    "acquirer.refused" => "L'acquéreur a refusé l'opération ; réessayez plus tard.", "The acquirer refused the operation; try again later.";
    "acquirer.unreachable" => "L'acquéreur n'a pas pu être joint : rien n'a été fait. Réessayez plus tard.", "The acquirer could not be reached: nothing was done. Try again later.";
    "acquirer.pending" => "L'acquéreur n'a pas répondu à temps. L'opération est en attente : paylink lui demandera ce qu'il en est et la transaction le montrera.", "The acquirer did not answer in time. The operation is pending: paylink will ask the acquirer what became of it, and the transaction will show it.";
    "payment.paid_without_transaction" => "Ce lien est payé mais sa transaction est introuvable.", "This link is paid but its transaction cannot be found.";
    "operation.without_transaction" => "Cette opération ne porte sur aucune transaction.", "This operation concerns no transaction.";
    "operation.not_settlement" => "Une autorisation ne se confirme pas comme une remise.", "An authorisation is not confirmed like a capture.";
    "operation.transaction_changed" => "La transaction a changé pendant l'opération : à vérifier.", "The transaction changed during the operation: to be checked.";
    "shop.time_zone_unknown" => "Le fuseau horaire de la boutique est inconnu.", "The shop's time zone is unknown.";
    "transaction.operation_pending" => "Une opération est déjà en cours auprès de l'acquéreur pour cette transaction.", "An operation with the acquirer is already under way for this transaction.";
}
