# `kpr-bridge status` som tekst, og tekstene om hva som må følges opp, som også står på
# administrasjonssiden.

status-heading = kpr-bridge-status for { $name } ({ $number }), { $mode ->
    [production] produksjon
   *[test] testmodus
}, { $at }
status-nothing-needs-action = Ingenting må følges opp.
status-needs-action = MÅ FØLGES OPP ({ $count })
status-none = ingen
# En dato å skrive i en kommando når ingen er kjent.
status-date-placeholder = ÅÅÅÅ-MM-DD
status-what-to-do = Dette gjør du: { $todo }
status-kpr-wrote = KPR skrev: «{ $text }»
# Et antall av noe, i en liste: «levert: 3».
status-count = { $what }: { $count }

## Kildene

status-source = Kilde { $name } ({ $kind })
status-source-iplos-cannot = IPLOS 3.7 har ikke midlertidige stopp: denne kilden melder ingen MidlertidigStopp (en kilde til kan gi dem)

## Flere kommuner samlet (`status --tenants`)

status-overview-heading = kpr-bridge-status for { $count ->
    [one] { $count } kommune
   *[other] { $count } kommuner
}, { $at }
status-overview-municipality = Kommune
status-overview-served = Betjenes av
status-overview-last-shipped = Sist sendt
status-overview-needs-action = Må følges opp
status-overview-actions = MÅ FØLGES OPP
status-served-by = betjenes av { $holder }
status-not-served-since = IKKE BETJENT (sist av { $holder }; kjører en replika?)
status-not-served = IKKE BETJENT (ennå ikke; kjører en replika?)

## Det som må følges opp

action-daily-missed = Den daglige rapporten er ikke sendt for { $dates }.
    .last = Siste rapporteringsdato som er sendt, er { $last }. Etter tidsplanen ({ $schedule }) skulle alle datoer til og med { $closed } vært sendt.
    .todo = Dette gjør du: sjekk at kpr-bridge-agenten kjører, og les loggen. `kpr-bridge daily --config FIL --date { $date }` sender en dato manuelt.
action-daily-missed-many = { $count } rapporteringsdatoer, de siste { $shown }: { $dates }
action-certificate-unreadable = { $name } kan ikke leses: { $problem }
    .means = Til det kan leses, kan ingenting sendes til KPR eller leses fra KPR.
action-certificate-ended = { $name } utløp { $day }: { $subject }.
    .means = Ingenting kan sendes med det.
    .todo = Dette gjør du: { $renew }.
action-certificate-ending = { $name } utløper { $day } ({ $days ->
    [one] { $days } dag
   *[other] { $days } dager
} igjen): { $subject }.
    .todo = Dette gjør du: { $renew }. Gjør det før { $day }.
action-findings = Kontrollene av siste uttrekk fra journalsystemet (EPJ) ({ $at }, rapporteringsdato { $date }) fant feil. Postene det gjelder, holdes tilbake og sendes når de er rettet:
    .report = `kpr-bridge check --config FIL --report rapport.html` viser hver post med ID-en den har i journalsystemet.
action-conflict = KPRs kvitteringer for melding { $id } sier ulike ting: den første ({ $first }, { $first_at }) sa { $first_status }, en senere ({ $later }, { $later_at }) sier { $later_status }.
    .stays = Meldingen står fortsatt som { $state }, slik den første kvitteringen avgjorde. Den senere er tatt vare på, men ikke brukt.
    .todo = Dette gjør du: spør KPR (FHI) hvilket svar som gjelder. Gjelder det senere, sender du meldingen på nytt. `kpr-bridge receipts --config FIL --offline` viser begge.
action-anomalies = { $count ->
    [one] { $count } melding
   *[other] { $count } meldinger
} kom inn på køene våre de siste { $days } dagene uten å kunne leses som en applikasjonskvittering (den siste { $at }).
    .todo = De er tatt vare på i databasen til kpr-bridge. Dette gjør du: `kpr-bridge receipts --config FIL --offline` viser dem med årsaken. Er det en kvittering blant dem, kan svaret på en melding ha gått tapt.
action-identity-key-missing = Nøkkelfilen som låser fødselsnumrene i databasen til kpr-bridge, mangler: { $file }. Uten den kan ingen av de { $count } notifikasjonene som er lagret, sendes på nytt.
    .todo = Dette gjør du: legg filen tilbake fra sikkerhetskopien før neste daglige kjøring. Neste kjøring lager ellers en ny nøkkel, og da kan disse notifikasjonene ikke sendes på nytt før den gamle nøkkelen er lagt ved siden av (driftshåndboka, «A lost identity key»).
action-identity-key-unsent = { $count ->
    [one] { $count } notifikasjon
   *[other] { $count } notifikasjoner
} ({ $numbers }) er ikke sendt ennå, og kan ikke sendes: fødselsnumrene i dem er låst med en nøkkel som ikke finnes lenger, og personene står ikke lenger i EPJ. Alle senere notifikasjoner venter på dem, så ingenting blir sendt.
    .todo = Dette gjør du: finn den gamle nøkkelfilen i sikkerhetskopien, og legg den ved siden av den nye som { $file }.previous. Da går alt med neste kjøring. Finnes den ikke, ta det opp med FHI før noe mer sendes.
action-identity-key-lost = { $count ->
    [one] { $count } notifikasjon
   *[other] { $count } notifikasjoner
} som er sendt ({ $numbers }), kan ikke sendes på nytt: fødselsnumrene i dem er låst med en nøkkel som ikke finnes lenger.
    .since = Nøkkelfilen ble laget på nytt { $since }. Alt fra nummer { $first } er låst med den nye nøkkelen og kan sendes på nytt som vanlig.
    .todo = Dette gjør du: finn den gamle nøkkelfilen i sikkerhetskopien, og legg den ved siden av den nye som { $file }.previous. Da kan de sendes på nytt igjen. Finnes den ikke, kan de aldri sendes på nytt: si fra til FHI, slik at de vet det hvis de ber om dem.
action-chain-behind = Databasen til kpr-bridge ligger bak det KPR har fått: den siste notifikasjonen i den er nummer { $store }, men nummer { $mark } gikk til KPR i melding { $id } ({ $date }).
    .means = Databasen er lagt tilbake fra en eldre kopi. Til dette er avklart, blir ingenting fanget opp eller sendt (daily, resend, agenten): de neste numrene ville vært numre registeret allerede har.
    .todo = Dette gjør du: `kpr-bridge chain --config FIL` viser numrene som mangler. Finnes ingen nyere kopi av databasen, får `kpr-bridge chain --continue-after-mark --config FIL` nummereringen til å fortsette etter { $mark } og sier hva FHI må få vite (driftshåndboka, «Backing up and restoring the state store»).
action-chain-diverged = Databasen til kpr-bridge og kjedemerket { $file } er uenige om notifikasjon { $mark }: databasen har en annen notifikasjon under det nummeret enn den som ble sendt i melding { $id }.
    .means = Denne databasen sendte ikke det merket viser. Ingenting blir fanget opp eller sendt før dette er avklart.
    .todo = Dette gjør du: sjekk at databasen og [daily] identity_key_file i konfigurasjonen er denne kommunens (`kpr-bridge chain --config FIL`). Driftshåndboka, «Backing up and restoring the state store», sier hva du gjør videre.
action-chain-unreadable = Kjedemerket kan ikke leses: { $problem }
    .todo = Til det kan leses, blir ingenting fanget opp eller sendt. Dette gjør du: legg tilbake merket fra sikkerhetskopien av katalogen til identitetsnøkkelen, eller flytt det bort hvis det ikke hører til denne installasjonen (neste sending skriver et nytt).

## En melding KPR ikke tok imot, eller tok imot med feil i deler av den

problem-rejected = KPR avviste { $what } (melding { $id }, { $target }, { $at }).
    .means = Ingenting i den kom fram til registeret.
    .todo = Dette gjør du: spør KPR (FHI) om årsaken. `kpr-bridge receipts` viser kvitteringen.
problem-error = Norsk helsenett (Tjenestebussen) kunne ikke levere { $what } (melding { $id }, { $target }, { $at }).
    .todo = Dette gjør du: sjekk sertifikatene og kønavnene i konfigurasjonen mot adresseregisteret til Norsk helsenett, og send på nytt.
problem-expired = Det kom ingen kvittering fra KPR for { $what } (melding { $id }, { $target }): sluttet å vente { $at }.
    .means = Det kan hende KPR ikke har fått den.
    .todo = Dette gjør du: sjekk at kvitteringene kommer fram til køen vår (`kpr-bridge receipts --config FIL`), og spør KPR (FHI) om meldingen kom fram, før du sender den på nytt.
problem-remarked = KPR tok imot { $what } (melding { $id }, { $target }, { $at }), men fant feil i deler av den. De delene kom ikke fram til registeret.

## Det som er underveis

status-waiting = Venter ({ $count })
status-waiting-some = Venter ({ $count }, de siste { $shown } vises)
status-waiting-queued = ikke tatt imot av Norsk helsenett (Tjenestebussen) ennå, har ventet i { $duration }
status-waiting-sent = sendt, har ventet på kvittering fra KPR i { $duration }
status-waiting-line = { $what } (melding { $id }, { $target }): { $doing }

## Den daglige rapporteringen

status-daily = Daglig rapportering
status-daily-not-begun = Den daglige rapporteringen har ikke begynt. Første kjøring er førstegangsinnlastingen: `kpr-bridge daily --config FIL --initial [--since 2026-01-01]`.
status-daily-last = Siste rapporteringsdato som er sendt: { $date }. Tidsplan { $schedule } (norsk tid).
status-daily-msg-type = De daglige meldingene sendes med meldingstype { $code } i hodemeldingen (HIS 1135, XPR(ipl) 56.0.0). Typen har ikke noe offentlig navn – bekreft den med FHI før produksjon.
status-daily-success = Siste daglige rapport KPR har tatt imot i sin helhet: sendt { $at } (for { $duration } siden).
status-identity-key-lost = { $count ->
    [one] { $count } notifikasjon
   *[other] { $count } notifikasjoner
} ({ $numbers }) kan ikke sendes på nytt: fødselsnumrene i dem er låst med en nøkkel som ikke finnes lenger (ny nøkkel siden { $since }).
status-run-read = lest { $count ->
    [one] én gang
   *[other] { $count } ganger
}, { $notifications ->
    [one] { $notifications } notifikasjon
   *[other] { $notifications } notifikasjoner
}
status-run-held-back = { $count ->
    [one] { $count } post
   *[other] { $count } poster
} holdt tilbake
status-run-not-sent = ikke sendt ennå
status-run-no-changes = { $time }: ingen endringer å sende
status-run-sent = sendt { $time } med { $count ->
    [one] { $count } notifikasjon
   *[other] { $count } notifikasjoner
}: { $messages }
status-part = del { $number } av { $parts }

## Resten

status-earlier = Tidligere problemer og merknader (eldre enn { $days } dager, eller tatt imot med feil i deler)
status-warnings = Verdt å se på (advarsler fra siste uttrekk, { $at }; dataene sendes likevel)
status-finding = { $rule } ({ $count ->
    [one] { $count } post
   *[other] { $count } poster
}): { $explains }
status-rule-unknown = En regel denne versjonen av kpr-bridge ikke kjenner.
status-certificates = Sertifikater
status-certificate-unreadable = { $name }: kan ikke leses ({ $file })
status-certificate-valid = { $name }: gyldig til { $day } ({ $days ->
    [one] { $days } dag
   *[other] { $days } dager
} igjen), { $subject }
status-messages = Meldinger: { $messages }
status-messages-none = ingen ennå
status-receipts = Kvitteringer: { $count } mottatt. Halvparten kom innen { $duration } etter sending.
status-events = Endringer rapportert så langt: { $events }
status-anomalies = Meldinger som ikke kunne leses, tatt vare på: { $count } (`kpr-bridge receipts --offline` viser dem).

## Sertifikatene, etter hva de brukes til

certificate-signing = kommunens signeringssertifikat
certificate-encryption = kommunens krypteringssertifikat
certificate-previous-encryption = kommunens forrige krypteringssertifikat
certificate-kpr-encryption = KPRs krypteringssertifikat
certificate-kpr-signing = KPRs signeringssertifikat
certificate-renew-kpr-encryption = be KPR (FHI) om det nye krypteringssertifikatet deres, eller hent det fra adresseregisteret til Norsk helsenett, og legg det inn i konfigurasjonen
certificate-renew-kpr-signing = hent KPRs nye signeringssertifikat fra adresseregisteret til Norsk helsenett, legg det til i certificates.kpr_signing_certificates, og fjern det gamle når det har utløpt
certificate-renew-ours = bestill et nytt virksomhetssertifikat for kommunen, og installer det nye sertifikatet og nøkkelen

## Hvor lang tid noe tok

duration-seconds = { $count ->
    [one] { $count } sekund
   *[other] { $count } sekunder
}
duration-minutes = { $count ->
    [one] { $count } minutt
   *[other] { $count } minutter
}
duration-hours = { $count ->
    [one] { $count } time
   *[other] { $count } timer
}
duration-days = { $count ->
    [one] { $count } dag
   *[other] { $count } dager
}
