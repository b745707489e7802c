# Administrasjonssiden, for innsendingsansvarlig og IT-driften.

## Rammen rundt hver side

nav-label = Sider
nav-overview = Oversikt
nav-resend = Send på nytt
nav-runs = Daglige kjøringer
nav-quality = Datakvalitet
nav-settings = Innstillinger
nav-audit = Logg over handlinger
nav-all-municipalities = Alle kommuner
mode-test = test
mode-production = produksjon
sign-out = Logg ut
footer = Tidspunkter er norsk tid (Europe/Oslo). Ingen side viser fødselsnummer eller navn: personer vises med journalsystemets egne numre.

## Innlogging

sign-in = Logg inn
sign-in-deployment = kommunene i denne installasjonen
sign-in-intro = Rapportering til Kommunalt pasient- og brukerregister (KPR). Logg inn for å se hva som er sendt, hva KPR har svart, og for å sende på nytt.
sign-in-user = Brukernavn
sign-in-password = Passord
sign-in-wrong = Feil brukernavn eller passord.
sign-in-throttled = For mange mislykkede innlogginger på rad for denne brukeren fra denne adressen. Vent { $seconds } sekunder og prøv igjen. Hvis det fortsatt ikke går, be en kollega med tilgang om å sjekke passordet ditt.
municipalities-title = Dine kommuner
municipalities-intro = Rapportering til Kommunalt pasient- og brukerregister (KPR). Du har tilgang til disse:

## Sider som sier at noe gikk galt

error-to-overview = Til oversikten
error-render = Siden kunne ikke vises
    .text = kpr-bridge klarte ikke å lage denne siden. Loggen sier hvorfor.
error-store = Tilstandslageret kan ikke brukes
    .text = kpr-bridge får ikke lest tilstandslageret akkurat nå. Prøv igjen om et minutt. Hvis det varer, be IT-driften se i agentens logg og på /health.
error-not-found = Siden finnes ikke
    .text = Denne adressen er ikke en side i kpr-bridge. Begynn fra oversikten.
error-form-refused = Skjemaet ble avvist
    .text = Skjemaet manglet øktens kode, så det kan ha kommet fra et annet sted enn denne siden. Åpne siden på nytt og gjør det samme igjen.
error-sign-in-refused = Innloggingen ble avvist
    .text = Innloggingsskjemaet manglet koden sin. Åpne innloggingssiden på nytt og logg inn derfra.
error-municipality-closed = Sidene for denne kommunen kan ikke åpnes
    .text = kpr-bridge får ikke lastet kommunens sertifikater eller tilstandslager akkurat nå. Be IT-driften se i loggen; den sier hvilken fil det gjelder.
error-language = Språket finnes ikke
    .text = Siden finnes på norsk (bokmål) og engelsk. Velg et av dem på siden.

## Meldinger, tilstandene og typene deres

message-kind-daily = daglig
message-kind-resend = sendt på nytt
message-kind-annual = årlig
message-part-of = { $what }, del { $part } av { $parts }
message-sent-again = notifikasjoner sendt på nytt

## Oversikten

overview-title = Oversikt
overview-actions = Må følges opp
overview-nothing-to-do = Ingenting må følges opp: de daglige rapportene går som planlagt, og KPR har tatt imot det som er sendt.
overview-messages = Meldinger
overview-messages-note = Alle meldinger som er sendt eller forsøkt sendt, nyeste først: de daglige rapportene (én per del), notifikasjoner sendt på nytt og årsrapporten. Åpne en melding for å se notifikasjonene og KPRs kvittering.
overview-filter-state = Tilstand
overview-filter-kind = Type
overview-filter-any = alle
overview-filter-from = Fra
overview-filter-to = Til
overview-filter-show = Vis
overview-filter-clear = Nullstill
overview-bad-state = «{ $value }» er ikke en tilstand en melding kan ha
overview-bad-kind = «{ $value }» er ikke en meldingstype
overview-bad-date = «{ $value }» er ikke en dato; skriv den som { $hint }
overview-none = Ingen meldinger.
overview-none-filtered = Ingen meldinger passer med disse valgene.
overview-col-created = Laget
overview-col-message = Melding
overview-col-kind = Type
overview-col-notifications = Notifikasjoner
overview-col-state = Tilstand
overview-col-since = Siden
overview-col-receipt = KPRs kvittering

## Én melding

message-title = Melding { $msg_id }
message-not-found = Meldingen finnes ikke
    .text = kpr-bridge har ikke sendt noen melding med denne MsgId-en. Finn den i listen på oversikten.
message-fact-what = Hva
message-kind = Type
message-msg-type = Meldingstype i MsgHead
message-to = Til
message-state = Tilstand
message-since = siden
message-created = Laget
message-published = Sendt til meldingsformidleren
message-published-times = { $count ->
    [one] én gang
   *[other] { $count } ganger
}
message-broker-said = meldingsformidleren svarte:
message-receipt = KPRs kvittering
message-no-receipt-yet = ingen ennå
message-resend = Send notifikasjonene i denne meldingen på nytt …
message-resend-note = Du får se hva som sendes før noe blir sendt.
message-receipts = Kvitteringer fra KPR
message-no-receipts = Det har ikke kommet noen kvittering for denne meldingen.
message-receipt-id = Kvittering
message-receipt-conflicting = motsier den første kvitteringen: tatt vare på, men ikke brukt
message-receipt-duplicate = samme svar en gang til
message-col-code = Kode
message-col-meaning = Betydning
message-col-todo = Hva du gjør
message-col-kpr-text = KPRs tekst
message-error-report = Feilmeldingen fra transporten
message-history = Hva som har skjedd med den
message-col-when = Når
message-col-from = Fra
message-col-to = Til
message-col-detail = Detaljer
message-notifications = Notifikasjoner ({ $count })
message-notifications-note = Hver notifikasjon med registerets nummer, og hvor den kom fra: kilden, journalsystemets tjeneste-id og personens nummer der (brukerNr).
message-sealed-away = { $count ->
    [one] Notifikasjon { $numbers } i denne meldingen kan ikke sendes på nytt:
   *[other] Notifikasjonene { $numbers } i denne meldingen kan ikke sendes på nytt:
} fødselsnumrene i dem er låst med en nøkkel som ikke finnes lenger (se oversikten).
message-sealed-away-mark = kan ikke sendes på nytt
message-col-number = Nr.
message-col-event = Hendelse
message-col-status = Status
message-col-event-date = Hendelsesdato
message-col-reported = Rapportert
message-col-source = Kilde
message-col-service = Tjeneste-id
message-col-person = Personnr. (brukerNr)
message-col-corrects = Korrigerer

## Sende på nytt

resend-title = Send notifikasjoner på nytt
resend-intro = Send notifikasjoner til KPR på nytt, nøyaktig slik de ble sendt første gang (samme numre og innhold), i en ny melding. Velg hvilke; du får se hva som sendes før noe blir sendt.
resend-which = Hvilke notifikasjoner
resend-by-message = Notifikasjonene i én melding (MsgId)
resend-by-notification = Én notifikasjon (GUID-en dens)
resend-by-since-date = De som er rapportert på eller etter en dato
resend-by-since-number = De som er nummerert fra et nummer og utover
resend-by-between-dates = De som er rapportert mellom to datoer
resend-by-between-numbers = De som er nummerert mellom to numre
resend-by-patient = Én persons (personnummeret i journalsystemet, brukerNr)
resend-value = MsgId, GUID, dato (dd.mm.åååå), nummer eller brukerNr
resend-value2 = Til (for et intervall: siste dato eller nummer)
resend-show = Vis hva som vil bli sendt
resend-bad-date = «{ $value }» er ikke en dato; skriv den som { $hint }
resend-bad-number = «{ $value }» er ikke et notifikasjonsnummer
resend-bad-guid = «{ $value }» er ikke en GUID for en notifikasjon
resend-bad-way = «{ $value }» er ikke en måte å velge notifikasjoner på
resend-fill-in = Fyll inn hva som skal sendes på nytt.
resend-fill-in-both = Fyll inn begge endene av intervallet.
resend-chose-message = notifikasjonene i melding { $id }
resend-chose-notification = notifikasjon { $guid }
resend-chose-since-date = de som er rapportert på eller etter { $day }
resend-chose-since-number = de som er nummerert fra { $number }
resend-chose-between-dates = de som er rapportert fra { $from } til { $to }
resend-chose-between-numbers = de som er nummerert fra { $from } til { $to }
resend-chose-patient = notifikasjonene til én person
resend-nothing = Ingenting å sende på nytt: ingen sendt notifikasjon passer med { $chosen }.
resend-preview-title = Send på nytt: sjekk før du sender
resend-you-chose = Du valgte:
resend-preview-summary = { $count ->
    [one] 1 notifikasjon blir sendt på nytt, nummer { $numbers }.
   *[other] { $count } notifikasjoner blir sendt på nytt, numrene { $numbers }.
}
resend-messages = Meldingene de var i
resend-col-of-these = Av disse notifikasjonene
resend-waiting = { $count ->
    [one] 1 av dem er i en melding som fortsatt venter på kvittering fra KPR. Sender du den på nytt nå, kan KPR få den to ganger; som regel er det bedre å vente på kvitteringen.
   *[other] { $count } av dem er i en melding som fortsatt venter på kvittering fra KPR. Sender du dem på nytt nå, kan KPR få dem to ganger; som regel er det bedre å vente på kvitteringen.
}
resend-waiting-refused = { $count } av de valgte notifikasjonene er i meldinger som fortsatt venter på kvittering fra KPR ({ $messages }). Vent på kvitteringen, eller kryss av for «Send likevel» for å sende dem på nytt nå.
resend-sealed-away = { $count } av de { $selected } valgte notifikasjonene ({ $numbers }) kan ikke sendes på nytt: fødselsnumrene i dem er låst med en nøkkel som ikke finnes lenger. Be IT-driften legge den gamle nøkkelfilen tilbake fra sikkerhetskopien (driftshåndboka, «A lost identity key»), eller velg bare de andre. Finnes ikke nøkkelen, kan de ikke sendes på nytt: si fra til FHI.
resend-anyway = Send likevel
resend-confirm = { $count ->
    [one] Send 1 notifikasjon på nytt
   *[other] Send { $count } notifikasjoner på nytt
}
resend-choose-again = Velg på nytt
resend-done-title = Sendt på nytt
resend-done = { $count ->
    [one] 1 notifikasjon, nummer { $numbers }, er
   *[other] { $count } notifikasjoner, numrene { $numbers }, er
} på vei til KPR i { $messages ->
    [one] en ny melding
   *[other] { $messages } nye meldinger
}{ $forced ->
    [yes] , sendt selv om en tidligere melding fortsatt ventet på kvittering.
   *[no] .
}
resend-done-receipts = Kvitteringen fra KPR vises på hver melding og i
resend-done-overview = oversikten
resend-failed = Sendingen feilet
    .text = { $error }. Ingenting ble sendt. Prøv igjen, eller be IT-driften lese agentens logg.

## Daglige kjøringer

runs-title = Daglige kjøringer
runs-intro = For hver rapporteringsdato: hvor mange ganger journalsystemet ble lest, hvor mange notifikasjoner endringene ga, hvor mange poster kontrollene holdt tilbake (de sendes når de er rettet), og meldingene som hadde med datoen.
runs-none = Ingen daglig kjøring ennå. Daglig rapportering starter med
runs-chart = Notifikasjoner per dag
runs-chart-title = Notifikasjoner per rapporteringsdato, de siste { $count } datoene
runs-chart-bar = { $day }: { $count ->
    [one] 1 notifikasjon
   *[other] { $count } notifikasjoner
}
runs-last-30 = De siste 30 rapporteringsdatoene
runs-col-date = Rapporteringsdato
runs-col-reads = Lesinger
runs-col-notifications = Notifikasjoner
runs-col-held-back = Holdt tilbake av kontrollene
runs-col-last-read = Sist lest
runs-col-shipped = Sendt
runs-col-messages = Meldinger
runs-nothing-changed = ingen: ingenting var endret

## Datakvalitet

quality-title = Datakvalitet
quality-not-read = Journalsystemet er ikke lest ennå. Funnene vises her etter første daglige kjøring.
quality-intro = Hva kontrollene fant i siste lesing av journalsystemet, slik registeret vil kontrollere det
quality-reporting-date = rapporteringsdato
quality-nothing = Kontrollene fant ingenting.
quality-col-rule = Regel
quality-col-severity = Alvorlighet
quality-col-records = Poster
quality-col-means = Hva det betyr
quality-col-at-kpr = Hos KPR
quality-col-todo = Hva du gjør
quality-severity-error = feil
quality-severity-warning = advarsel
quality-consequence-error = KPRs mottakskontroll ville avvist disse postene. kpr-bridge holder dem tilbake og sender dem når de er rettet.
quality-consequence-warning = KPR tar imot disse postene, men kvalitetskontrollen merker dem; statistikken de inngår i, kan bli feil.
quality-report = Hele kontrollrapporten
quality-report-note = Rapporten leser alle kildene nå og viser hvert funn med postens id i journalsystemet, sammen med registerets egne mottakskontroller og en graf per tjeneste måned for måned. For en stor kommune tar det litt tid.
quality-year = Rapporteringsår
quality-make-report = Lag rapporten
quality-bad-year = Ikke et rapporteringsår
    .text = Velg et rapporteringsår, for eksempel 2026.
quality-report-failed = Rapporten kunne ikke lages
    .text = kpr-bridge klarte ikke å kontrollere kildene akkurat nå. Loggen sier hvorfor.

## Innstillinger

settings-title = Innstillinger
settings-the-municipality = Kommunen
settings-municipality = Kommune
settings-orgnr = Organisasjonsnummer
settings-her-municipality = HER-id, kommunen
settings-her-unit = HER-id, rapporterende enhet
settings-mode = Modus
settings-mode-test = test: meldingene går til KPR Validering
settings-mode-production = produksjon: meldingene går til registeret
settings-daily-run = Daglig kjøring
settings-daily-run-value = { $schedule } (cron, norsk tid); meldingstype i MsgHead { $msg_type }
settings-transport = Transport
settings-transport-amqp = AMQP { $broker }: til KPRs kø { $kpr }, kvitteringer på { $receipts }, feilmeldinger på { $errors }
settings-transport-spool = mappe: meldingene skrives til { $dir }
settings-transport-spool-receipts = mappe: meldingene skrives til { $dir }, kvitteringer leses fra { $receipts }
settings-transport-none = ingen satt opp
settings-sources = Kilder
settings-from-configuration = Dette kommer fra konfigurasjonsfilen; IT-driften endrer det der.
settings-certificates = Sertifikater
settings-no-certificates = Ingen sending er satt opp, så ingen sertifikater er i bruk.
settings-col-certificate = Sertifikat
settings-col-subject = Utstedt til
settings-col-ends = Utløper
settings-col-days-left = Dager igjen
settings-col-problem = Problem
settings-contacts = IPLOS-kontakter
settings-contacts-intro = Hvem KPR spør om kommunens data. Begge står i hver melding; samme person kan være begge.
settings-contacts-saved-by = Lagret av { $who } { $at }.
settings-contacts-from-configuration = Fra konfigurasjonsfilen. Lagrer du dem her, erstatter de dem fra da av.
settings-saved = Lagret. Neste melding har med disse kontaktene.
settings-legend-contact = IPLOS-kontakt (type 16)
settings-legend-submitter = Innsendingsansvarlig (type 17)
settings-name = Navn
settings-phone = Telefon
settings-email = E-post
settings-save = Lagre kontaktene
settings-role-contact = IPLOS-kontakten
settings-role-submitter = innsendingsansvarlig
settings-contact-no-name = Navn mangler for { $role }.
settings-contact-bad-email = E-postadressen «{ $email }» for { $role } er ikke en adresse som navn@kommune.no.
settings-contact-bad-phone = Telefonnummeret «{ $phone }» for { $role } har bokstaver i seg.

## Loggen over handlinger

audit-title = Logg over handlinger
audit-intro = Hver innlogging, utlogging, ny sending og endring på denne siden eller med kpr-bridges kommandoer, nyeste først (de siste 500); alle sammen:
audit-col-when = Når
audit-col-who = Hvem
audit-col-from = Fra
audit-col-what = Hva
audit-col-detail = Detaljer
audit-signed-in = logget inn
audit-signed-out = logget ut
audit-sign-in-refused = innlogging avvist
audit-resent = sendt på nytt
audit-contacts-changed = kontakter endret
