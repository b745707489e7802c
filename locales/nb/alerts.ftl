# Varsler: tittelen (én linje, til emnefeltet eller overskriften på et varsel) og meldingen
# (hva som skjedde, hva det betyr, hva du gjør), til kommandoen, webhooken og loggen.

alert-daily-missed = Den daglige rapporten for { $date } er ikke sendt til KPR
    .text = Den daglige rapporten for { $date } er ikke sendt til KPR, selv om den etter tidsplanen skulle vært sendt nå. Siste rapporteringsdato som er sendt, er { $last }.
    .means = Det betyr: registeret vet ennå ikke om endringene i tjenestene den dagen. Ingenting er tapt: endringene sendes med neste daglige rapport.
    .todo = Dette gjør du: sjekk at kpr-bridge-agenten kjører, og les loggen. `kpr-bridge status` viser mer.

alert-certificate-unreadable = { $name } kan ikke leses
    .text = { $name } kan ikke leses: { $problem }
    .means = Det betyr: ingenting kan sendes til KPR eller leses fra KPR før det kan leses.
    .todo = Dette gjør du: rett filen eller stien under [certificates].
alert-certificate-ended = { $name } har utløpt
    .text = { $name } utløp { $day }.
    .means = Det betyr: meldinger til KPR kan ikke sendes eller leses med det.
    .todo = Dette gjør du: { $renew }.
alert-certificate-ending = { $name } utløper om { $days ->
    [one] { $days } dag
   *[other] { $days } dager
}
    .text = { $name } utløper { $day }, om { $days ->
        [one] { $days } dag
       *[other] { $days } dager
    }.
    .means = Det betyr: etter den dagen kan ingenting sendes til KPR før et nytt sertifikat er lagt inn.
    .todo = Dette gjør du: { $renew }. Gjør det før { $day }.

alert-capture-errors = { $count ->
    [one] { $count } post holdes
   *[other] { $count } poster holdes
} tilbake fra KPR på grunn av feil i journalsystemet (EPJ)
    .text = Kontrollene av siste uttrekk fra journalsystemet (EPJ) (rapporteringsdato { $date }) fant { $count } feil:
    .means = Det betyr: disse postene holdes tilbake fra KPR til de er rettet. Alt annet sendes.
    .todo = Dette gjør du: rett dem i journalsystemet. `kpr-bridge check --config FIL --report rapport.html` viser hver post med ID-en den har der.

alert-receipt-conflict = KPRs kvitteringer for melding { $id } sier ulike ting
    .text = Den første kvitteringen for melding { $id } sa { $first_status }; en senere sier { $later_status }.
    .means = Det betyr: meldingen står fortsatt som { $state }, slik den første kvitteringen avgjorde. Den senere kvitteringen er tatt vare på, men ikke brukt. En av dem er feil, eller ikke fra KPR.
    .todo = Dette gjør du: spør KPR (FHI) hvilket svar som gjelder. Gjelder det senere, sender du meldingen på nytt. `kpr-bridge status` viser begge kvitteringene.
alert-identity-key = Nøkkelen som låser fødselsnumrene i databasen til kpr-bridge, er borte

alert-rejected = KPR avviste { $what }
    .text = KPR avviste { $what } (melding { $id }, { $target }).
    .means = Det betyr: ingenting i den kom fram til registeret.
    .todo = Dette gjør du: rett det KPR peker på, og send på nytt. `kpr-bridge status` viser detaljene.
alert-reasons = KPRs begrunnelse:
alert-reason = { $code }: { $meaning } Dette gjør du: { $todo }
alert-reason-unknown = kode { $code }: se `kpr-bridge status` for KPRs egne ord.
alert-error = Norsk helsenett kunne ikke levere { $what }
    .text = Norsk helsenett (Tjenestebussen) kunne ikke levere { $what } (melding { $id }, { $target }).
    .means = Det betyr: KPR har ikke fått den.
    .todo = Dette gjør du: sjekk sertifikatene og kønavnene i konfigurasjonen mot adresseregisteret til Norsk helsenett. `kpr-bridge status` viser årsaken Norsk helsenett oppga.
alert-expired = Ingen kvittering fra KPR for { $what }
    .text = Det kom ingen kvittering fra KPR for { $what } (melding { $id }, { $target }) innen fristen.
    .means = Det betyr: det kan hende KPR ikke har fått den.
    .todo = Dette gjør du: sjekk at kvitteringene kommer fram til kommunens kø (`kpr-bridge receipts --config FIL`), og spør KPR (FHI) om meldingen kom fram, før du sender den på nytt.
