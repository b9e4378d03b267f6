//! Transactions: list, detail, actions (the title and the menu entry live in core.rs).

super::messages! {
    "transactions.back" => "Retour aux transactions", "Back to transactions";
    "transactions.tabs" => "Transactions par état", "Transactions by status";
    "transactions.tab.in_progress" => "En cours", "In progress";
    "transactions.tab.captured" => "Remises", "Captured";
    "transactions.tab.others" => "Refusées / annulées / expirées", "Refused / cancelled / expired";
    "transactions.tab.all" => "Toutes", "All";
    "transactions.empty_tab" => "Aucune transaction dans cet onglet pour cette boutique et ce mode.", "No transactions in this tab for this shop and mode.";
    "transactions.list.hint" => "Les plus récentes d'abord. Cliquez sur un numéro pour le détail et les actions.", "Newest first. Click a number for the detail and the actions.";
    "transactions.export" => "Exporter (CSV)", "Export (CSV)";

    "transactions.search.title" => "Rechercher des transactions", "Search transactions";
    "transactions.search.more" => "Dates, carte et code retour", "Dates, card and return code";
    "transactions.search.card_last4" => "4 derniers chiffres de la carte", "Card's last four digits";
    "transactions.search.none" => "Aucune transaction ne correspond à cette recherche.", "No transactions match this search.";
    "transactions.search.order_id_invalid" => "Indiquez un numéro d'ordre (chiffres seulement).", "Enter an order number (digits only).";
    "transactions.search.last4_invalid" => "Indiquez les 4 derniers chiffres de la carte.", "Enter the card's last four digits.";
    "transactions.search.return_code_invalid" => "Un code retour a 5 chiffres (par exemple 00000).", "A return code has 5 digits (for example 00000).";

    "transactions.field.id" => "N°", "No.";
    "transactions.field.date" => "Date", "Date";
    "transactions.field.created" => "Date du paiement", "Payment date";
    "transactions.field.order" => "Ordre de paiement", "Payment order";
    "transactions.field.order_id" => "N° d'ordre", "Order no.";
    "transactions.field.reference" => "Référence de l'ordre", "Order reference";
    "transactions.field.amount" => "Montant", "Amount";
    "transactions.field.refunded" => "Remboursé", "Refunded";
    "transactions.field.status" => "Statut", "Status";
    "transactions.field.card" => "Carte", "Card";
    "transactions.field.card_brand" => "Type de carte", "Card brand";
    "transactions.field.card_number" => "Numéro", "Number";
    "transactions.field.card_expiry" => "Expiration", "Expiry";
    "transactions.field.holder" => "Porteur", "Holder";
    "transactions.field.three_ds" => "3-D Secure", "3-D Secure";
    "transactions.field.return_code" => "Code retour", "Return code";
    "transactions.field.source" => "Origine", "Source";
    "transactions.field.receipt_no" => "N° de reçu de l'acheteur", "Buyer's receipt number";
    "transactions.field.buyer_email" => "E-mail de l'acheteur", "Buyer's e-mail";
    "transactions.field.validation_mode" => "Mode de validation", "Validation mode";
    "transactions.field.capture_date" => "Date de remise", "Capture date";
    "transactions.field.validate_by" => "À valider avant le", "Validate by";
    "transactions.field.captured_at" => "Remise en banque le", "Captured on";
    "transactions.field.acquirer_ref" => "Référence acquéreur", "Acquirer reference";
    "transactions.field.authorised" => "Montant autorisé", "Authorised amount";
    "transactions.field.captured" => "Montant remis", "Captured amount";
    "transactions.field.refundable" => "Remboursable", "Refundable";

    "transactions.status.AUTHORISED" => "Autorisée", "Authorised";
    "transactions.status.AUTHORISED_TO_VALIDATE" => "À valider", "To validate";
    "transactions.status.CAPTURED" => "Remise", "Captured";
    "transactions.status.REFUSED" => "Refusée", "Refused";
    "transactions.status.CANCELLED" => "Annulée", "Cancelled";
    "transactions.status.EXPIRED" => "Expirée", "Expired";

    "transactions.three_ds.FRICTIONLESS" => "Authentifié sans interaction", "Authenticated, frictionless";
    "transactions.three_ds.CHALLENGE_PASSED" => "Authentifié (challenge réussi)", "Authenticated (challenge passed)";
    "transactions.three_ds.CHALLENGE_FAILED" => "Challenge échoué", "Challenge failed";
    "transactions.three_ds.FAILED" => "Authentification échouée", "Authentication failed";
    "transactions.three_ds.NOT_PERFORMED" => "Non réalisé", "Not performed";

    "transactions.three_ds_short.FRICTIONLESS" => "Sans interaction", "Frictionless";
    "transactions.three_ds_short.CHALLENGE_PASSED" => "Challenge réussi", "Challenge passed";
    "transactions.three_ds_short.CHALLENGE_FAILED" => "Challenge échoué", "Challenge failed";
    "transactions.three_ds_short.FAILED" => "Échec", "Failed";
    "transactions.three_ds_short.NOT_PERFORMED" => "—", "—";

    "transactions.source.EMAIL" => "Ordre de paiement par e-mail", "Payment order by e-mail";
    "transactions.source.SMS" => "Ordre de paiement par SMS", "Payment order by SMS";
    "transactions.source.URL" => "Ordre de paiement par URL", "Payment order by URL";
    "transactions.source.INVOICE" => "Ordre de paiement facture", "Payment order by invoice";
    "transactions.source.other" => "Autre", "Other";

    "transactions.code.00000" => "Paiement accepté", "Payment accepted";
    "transactions.code.01005" => "Refusé par la banque", "Refused by the bank";
    "transactions.code.01014" => "Carte de test inconnue", "Unknown test card";
    "transactions.code.01057" => "Refusé : paiement sans le porteur non autorisé", "Refused: payment without the cardholder not allowed";
    "transactions.code.01063" => "Refusé : cryptogramme erroné", "Refused: wrong security code";
    "transactions.code.01078" => "Refusé : authentification 3-D Secure échouée", "Refused: 3-D Secure authentication failed";
    "transactions.code.02008" => "Annulé par l'acheteur", "Cancelled by the buyer";
    "transactions.code.02324" => "La session a expiré avant la fin du paiement", "The session expired before the payment was completed";
    "transactions.code.04059" => "Refusé : suspicion de fraude", "Refused: suspected fraud";
    "transactions.code.01xxx" => "Refus bancaire", "Bank refusal";
    "transactions.code.04xxx" => "Refus pour suspicion de fraude", "Refused for suspected fraud";
    "transactions.code.other" => "Code non référencé", "Unlisted code";

    "transactions.detail.title" => "Transaction", "Transaction";
    "transactions.attempts" => "Toutes les tentatives de paiement", "Every payment attempt";
    "transactions.see_order" => "Voir l'ordre", "See the order";
    "transactions.amounts.title" => "Montants", "Amounts";
    "transactions.card.title" => "Carte et authentification", "Card and authentication";
    "transactions.payment.title" => "Paiement", "Payment";
    "transactions.history.title" => "Historique", "History";
    "transactions.history.when" => "Date", "When";
    "transactions.history.event" => "Événement", "Event";
    "transactions.history.actor" => "Par", "By";
    "transactions.history.detail" => "Détail", "Detail";
    "transactions.history.capture_date_reached" => "Date de remise atteinte", "Capture date reached";
    "transactions.history.captured_early" => "Remise anticipée par le marchand", "Captured early by the merchant";
    "transactions.history.captured_at_once" => "Remise avec l'autorisation (validation automatique, délai 0)", "Captured with the authorisation (automatic validation, no delay)";
    "transactions.actor.system" => "paylink (automatique)", "paylink (automatic)";
    "transactions.actor.buyer" => "L'acheteur", "The buyer";
    "transactions.event.created" => "Paiement", "Payment";
    "transactions.event.validated" => "Validée", "Validated";
    "transactions.event.captured" => "Remise en banque", "Captured";
    "transactions.event.capture_date_changed" => "Date de remise modifiée", "Capture date changed";
    "transactions.event.cancelled" => "Annulée", "Cancelled";
    "transactions.event.refunded" => "Remboursement", "Refund";
    "transactions.event.expired" => "Expirée (non validée à temps)", "Expired (not validated in time)";
    "transactions.event.other" => "Autre événement", "Other event";

    "transactions.actions.title" => "Actions", "Actions";
    "transactions.action.validate" => "Valider", "Validate";
    "transactions.action.capture" => "Remettre en banque maintenant", "Capture now";
    "transactions.action.cancel" => "Annuler la transaction", "Cancel the transaction";
    "transactions.action.capture_date" => "Modifier la date de remise", "Change the capture date";
    "transactions.action.capture_date_submit" => "Enregistrer la date", "Save the date";
    "transactions.action.capture_date_hint" => "La transaction est remise en banque au début de ce jour, à l'heure de la boutique (aujourd'hui au plus tôt, dans un an au plus tard).", "The transaction is captured at the start of that day, shop time (today at the earliest, a year ahead at the latest).";
    "transactions.action.refund" => "Rembourser", "Refund";
    "transactions.refund.amount" => "Montant à rembourser", "Amount to refund";
    "transactions.refund.submit" => "Rembourser", "Refund";
    "transactions.refund.at_most" => "Au plus", "At most";
    "transactions.refund.until" => "jusqu'au", "until";
    "transactions.done.validated" => "Transaction validée : elle sera remise en banque à sa date de remise.", "Transaction validated: it will be captured on its capture date.";
    "transactions.done.captured" => "Transaction remise en banque : le montant est débité à l'acheteur.", "Transaction captured: the buyer is charged.";
    "transactions.done.capture_date" => "Date de remise modifiée.", "Capture date changed.";
    "transactions.done.cancelled" => "Transaction annulée : l'acheteur ne sera pas débité.", "Transaction cancelled: the buyer will not be charged.";
    "transactions.done.refunded" => "Remboursement enregistré.", "Refund recorded.";
}
