# Registerets egne mottakskontroller av KPR_IPL (src/annual/controls.rs): hvilken kontroll,
# hva registeret gjør når den slår til, hva det forventer, og hva du gjør.

control-consequence-message = registeret forkaster hele meldingen
control-consequence-record = registeret forkaster posten og alt som hører til den
control-consequence-null = registeret forkaster verdien (setter den til tom)
control-consequence-nothing = registeret tar den imot som den er

control-kind-type = kontroll av datatype
control-kind-mandatory = kontroll av obligatorisk verdi
control-kind-code = kontroll mot kodeverk
control-kind-range = kontroll mot min./maks.

control-expected-value = en verdi
control-expected-value-for = en verdi for tjenestetype { $codes }
control-expected-pattern = mønsteret { $pattern }
control-expected-one-of = en av { $codes }
control-expected-service-type = en tjenestetype som gjelder i { $year }
control-expected-range = fra { $from } til { $to }
control-expected-open = …

control-fix-mandatory = registrer verdien som mangler i EPJ, eller la tjenesten være ute til verdien er kjent
control-fix-value = rett verdien i EPJ; `kpr-bridge check` viser hvilken post det gjelder
