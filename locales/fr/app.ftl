# Le portefeuille applicatif (seed 004 : Payconiq via Monext, désormais Bancontact) : la
# page des noms et le simulateur TEST. Pages acheteur : les mêmes clés dans les cinq langues.
app-title = Payer avec { $service }
app-intro = { $service } demande votre prénom et votre nom. Vous confirmez ensuite le paiement dans votre application { $service }.
app-first_name = Prénom
app-last_name = Nom
app-continue = Continuer vers { $service }
app-names_hint = Votre nom accompagne la demande de paiement, comme le service de paiement l'exige.
app-other_way = Payer autrement
app-fix_fields = La demande de paiement n'a pas été envoyée : corrigez les champs signalés ci-dessous.
app-name-too_long = 64 caractères au plus.
app-name-invalid = Ce nom contient un caractère qui ne peut pas être utilisé.
app-amount-invalid = Valeur invalide pour le montant (code 02308) : il doit être supérieur à zéro et ne pas dépasser le montant de la commande.
app-amount-partial = Ce lien se paie en une seule fois, pour le montant total de la commande.
app-production_unavailable = Le paiement par l'application n'est pas encore disponible pour cette boutique. Revenez à la page de paiement pour payer autrement.
app-simulator-title = { $service } — simulateur TEST
app-simulator-notice = Ceci est le simulateur TEST de { $service } fourni par paylink : aucune application ne s'ouvre et aucun argent ne circule. Choisissez le résultat à simuler.
app-simulator-session = Paiement au nom de { $buyer }. La session se termine à { $until }.
app-simulator-pay = EFFECTUER LE PAIEMENT
app-simulator-abort = ABANDONNER
app-simulator-hint = EFFECTUER LE PAIEMENT est accepté (code 00000) ; ABANDONNER annule le paiement (code 02008). Après 15 minutes, la session expire (code 02324).
