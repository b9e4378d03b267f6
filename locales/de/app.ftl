# Die App-Wallet (Seed 004: Payconiq über Monext, jetzt Bancontact): die Namensseite und der
# TEST-Simulator. Käuferseiten: dieselben Schlüssel in allen fünf Sprachen.
app-title = Mit { $service } bezahlen
app-intro = { $service } benötigt Ihren Vor- und Nachnamen. Anschließend bestätigen Sie die Zahlung in Ihrer { $service }-App.
app-first_name = Vorname
app-last_name = Nachname
app-continue = Weiter zu { $service }
app-names_hint = Ihr Name wird mit der Zahlungsanforderung übermittelt, wie es der Zahlungsdienst verlangt.
app-other_way = Anders bezahlen
app-fix_fields = Die Zahlungsanforderung wurde nicht gesendet: Bitte korrigieren Sie die unten markierten Felder.
app-name-too_long = Höchstens 64 Zeichen.
app-name-invalid = Dieser Name enthält ein Zeichen, das nicht verwendet werden kann.
app-amount-invalid = Ungültiger Wert für den Betrag (Code 02308): Er muss größer als null sein und darf den Bestellbetrag nicht übersteigen.
app-amount-partial = Dieser Link wird in einer einzigen Zahlung über den vollen Bestellbetrag bezahlt.
app-production_unavailable = Die Zahlung per App ist für diesen Shop noch nicht verfügbar. Kehren Sie zur Zahlungsseite zurück, um anders zu bezahlen.
app-simulator-title = { $service } – TEST-Simulator
app-simulator-notice = Dies ist der TEST-Simulator von paylink für { $service }: Es öffnet sich keine App und es wird kein Geld bewegt. Wählen Sie das zu simulierende Ergebnis.
app-simulator-session = Zahlung im Namen von { $buyer }. Die Sitzung endet um { $until }.
app-simulator-pay = ZAHLUNG AUSFÜHREN
app-simulator-abort = ABBRECHEN
app-simulator-hint = ZAHLUNG AUSFÜHREN wird angenommen (Code 00000); ABBRECHEN bricht die Zahlung ab (Code 02008). Nach 15 Minuten läuft die Sitzung ab (Code 02324).
