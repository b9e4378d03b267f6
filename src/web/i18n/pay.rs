//! The buyer side: payment link pages.

super::messages! {
    "pay.title" => "Paiement sécurisé", "Secure payment";
    "pay.reference" => "Référence", "Reference";
    "pay.amount" => "Montant", "Amount";
    "pay.valid_until" => "Valable jusqu'au", "Valid until";
    "pay.description" => "Objet", "Details";
    "pay.expired.title" => "Ce lien de paiement a expiré", "This payment link has expired";
    "pay.expired.text" => "Il ne permet plus de payer. Contactez le marchand pour en recevoir un nouveau.", "It can no longer be used to pay. Contact the merchant to receive a new one.";
    "pay.paid.title" => "Ce lien a déjà été réglé", "This link has already been paid";
    "pay.paid.text" => "Le paiement a été accepté. Merci.", "The payment was accepted. Thank you.";
    "pay.not_open" => "Le paiement par carte n'est pas encore disponible sur cette page. Contactez le marchand si vous devez régler maintenant.", "Card payment is not available on this page yet. Contact the merchant if you need to pay now.";
    "pay.back_to_shop" => "Retour au site du marchand", "Back to the merchant's website";
    "pay.test_mode" => "Mode TEST : aucun paiement réel ne sera effectué.", "TEST mode: no real payment will be made.";
}
