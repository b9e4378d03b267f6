# Il portafoglio tramite app (seed 004: Payconiq tramite Monext, ora Bancontact): la pagina
# dei nomi e il simulatore TEST. Pagine dell'acquirente: le stesse chiavi nelle cinque lingue.
app-title = Paga con { $service }
app-intro = { $service } richiede il suo nome e cognome. Confermerà poi il pagamento nella sua app { $service }.
app-first_name = Nome
app-last_name = Cognome
app-continue = Continua su { $service }
app-names_hint = Il suo nome accompagna la richiesta di pagamento, come richiesto dal servizio di pagamento.
app-other_way = Paga in un altro modo
app-fix_fields = La richiesta di pagamento non è stata inviata: corregga i campi evidenziati qui sotto.
app-name-too_long = Massimo 64 caratteri.
app-name-invalid = Questo nome contiene un carattere che non può essere usato.
app-amount-invalid = Valore non valido per l'importo (codice 02308): deve essere maggiore di zero e non superare l'importo dell'ordine.
app-amount-partial = Questo link si paga con un unico pagamento dell'importo totale dell'ordine.
app-production_unavailable = Il pagamento con l'app non è ancora disponibile per questo negozio. Torni alla pagina di pagamento per pagare in un altro modo.
app-simulator-title = { $service } – simulatore TEST
app-simulator-notice = Questo è il simulatore TEST di { $service } fornito da paylink: nessuna app viene aperta e nessun denaro viene trasferito. Scelga l'esito da simulare.
app-simulator-session = Pagamento a nome di { $buyer }. La sessione termina alle { $until }.
app-simulator-pay = EFFETTUA IL PAGAMENTO
app-simulator-abort = ANNULLA
app-simulator-hint = EFFETTUA IL PAGAMENTO viene accettato (codice 00000); ANNULLA annulla il pagamento (codice 02008). Dopo 15 minuti la sessione scade (codice 02324).
