# `kpr-bridge demo`: det demoen skriver underveis, og oppsummeringen til slutt.

demo-in = kpr-bridge-demo i { $dir }
demo-synthetic = Bare oppdiktede data: { $count } personer med oppdiktede fødselsnumre, testsertifikater, og KPR spilt av den lokale testmottakeren.
demo-error = feil: { $why }
demo-stopped = demoen stoppet; det den har laget så langt, ligger i { $dir }
demo-unusable-input = `{ $command }` kunne ikke bruke det den fikk inn (avslutningskode { $code }; se over)
demo-cannot-write-configuration = kan ikke skrive konfigurasjonen i { $dir }: { $why }
demo-cannot-write-extract = kan ikke skrive uttrekket til { $dir }: { $why }
demo-receiver-not-spool = demoens testmottaker svarer via spool

## Stegene

demo-certificates = testsertifikater
    .made = En engangs test-CA, og par for signering og kryptering for kommunen og for KPR, i { $dir } (aldri til produksjon)
    .step = laget i { $dir }
demo-configuration = konfigurasjon
    .written = Kommunens konfigurasjon: { $municipality }
        Testmottakerens: { $receiver }
    .step = testmodus, SQLite som database, spool-overføring begge veier
demo-extract = et oppdiktet uttrekk
    .made = { $persons } personer, { $services } tjenester i { $dir }
    .step = uttrekk
demo-check-errors = kontrollene fant feil (de oppdiktede dataene har noen med vilje: de holdes tilbake og er utelatt nedenfor)
demo-daily-held-back = endringer med feil holdes tilbake til de er rettet (se over)
demo-change-heading = en endring i uttrekket
demo-change-on = { $date }: { $change }
demo-change-step = endring
demo-change = tjeneste { $ended } avsluttes; tjeneste { $stopped } stoppes midlertidig; person { $person } får en ny tjeneste { $added } ({ $local_type })
demo-annual-heading = annual { $year } til KPR Validering
    .how = (som med --yes --allow-errors: ingen spørsmål, og det som har feil, er utelatt)
demo-iplos-made = natt { $night }: journalsystemet (EPJ) skrev IPLOS 3.7-uttrekket sitt for { $year } ({ $persons } personer) til { $dir }
demo-iplos-step = IPLOS-uttrekk, natt { $night }
demo-exit-0 = avslutningskode 0
demo-exit-1 = avslutningskode 1 (se over)
demo-exit-1-because = avslutningskode 1: { $why }
demo-answered = KPR (testmottakeren) svarte på { $answered ->
    [one] { $answered } melding
   *[other] { $answered } meldinger
}; { $receipts ->
    [one] { $receipts } kvittering
   *[other] { $receipts } kvitteringer
} tatt imot, { $other } annet
    .step = kvitteringer

## Oppsummeringen

demo-summary = Oppsummering
    .steps = Steg
demo-receipts = Kvitteringer (KPRs svar, eldste melding først)
    .type = type
    .state = tilstand
    .status = KPRs status
    .none = ikke noe svar
demo-daily = Daglige notifikasjoner sendt (HIS 1135)
    .day = { $count ->
        [one] { $count } notifikasjon
       *[other] { $count } notifikasjoner
    } i { $messages ->
        [one] { $messages } melding
       *[other] { $messages } meldinger
    }: { $kinds }
    .kind = { $kind } { $status } ({ $name }): { $count }
demo-annual = Årsrapport { $year } (til KPR Validering, { $count ->
    [one] { $count } melding
   *[other] { $count } meldinger
})
    .persons = { $persons } personer; { $granted } tjenester innvilget og { $refused } avslått, fordelt på { $codes } nasjonale koder
    .per-code = per kode (innvilget/avslått):
demo-report = HTML-rapport: { $path }
demo-delivered = Alle meldingene ble levert ({ $delivered } av { $count }).
demo-not-delivered = Ikke alle meldingene ble levert: { $delivered } av { $count } levert. Demoen lager { $expected } (to daglige meldinger og paret av årsmeldinger).
