### Paramètres › Paiement en plusieurs fois : l'offre de paiement échelonné d'une boutique.

subnav-instalments = Plusieurs fois
instalments-title = Paiement en plusieurs fois
instalments-intro = L'acheteur peut régler en plusieurs prélèvements sur sa carte : le premier au moment du paiement, les suivants automatiquement à leur échéance, sur la même carte.
instalments-example_title = Ce que voit l'acheteur
instalments-example = Exemple pour { $total } en { $count } fois :
instalments-example_today = { $amount } aujourd'hui
instalments-example_on = { $amount } le { $date }
instalments-offer = Offre
instalments-enabled = Proposer le paiement en plusieurs fois sur la page de paiement
instalments-enabled_hint = Jamais proposé pour les ordres de facture, ni quand une échéance tomberait après l'expiration de la carte ou après la date « échéances jusqu'au » de l'ordre.
instalments-max_count = Nombre d'échéances
instalments-max_count_hint = De 2 à 12. L'acheteur choisit entre payer en une fois et payer en ce nombre d'échéances.
instalments-first_share_percent = Première échéance (% du total)
instalments-first_share_percent_hint = Laissez vide pour un partage en parts égales. Avec 50, la moitié du total est prélevée tout de suite et le reste est partagé à parts égales entre les autres échéances. Le centime d'arrondi éventuel va sur la dernière échéance.
instalments-min_amount = Montant minimum
instalments-min_amount_hint = Les paiements plus petits se règlent en une fois. Dans la devise de l'ordre, par exemple 50,00 ; vide ou 0 pour aucun minimum.
instalments-interval = Intervalle entre les échéances
instalments-interval_hint = « monthly » : le même jour chaque mois (le dernier jour d'un mois plus court), ou un nombre de jours de 1 à 365.
instalments-retry_days = Nouvelles tentatives d'une échéance refusée (jours)
instalments-retry_days_hint = Quand une échéance suivante est refusée, elle est tentée à nouveau ce nombre de jours après son échéance : « 1,3 » réessaie le lendemain, puis 3 jours après. Jusqu'à 5 nombres de 1 à 30, croissants ; vide pour ne pas réessayer.
instalments-save = Enregistrer
instalments-saved = Paramètres du paiement en plusieurs fois enregistrés.

## Refus du formulaire.

instalments-max_count-range = Indiquez un nombre d'échéances de 2 à 12.
instalments-first_share_percent-range = Indiquez un pourcentage de 1 à 99, ou laissez vide pour des parts égales.
instalments-min_amount-invalid = Indiquez un montant comme 50,00 ou 50.00 (deux décimales au plus).
instalments-interval-invalid = Indiquez « monthly » ou un nombre de jours de 1 à 365.
instalments-retry_days-invalid = Indiquez jusqu'à 5 nombres de jours de 1 à 30, croissants, séparés par des virgules (par exemple 1,3).
