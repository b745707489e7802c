# Words used everywhere.

common-persons = { $count ->
    [one] { $count } person
   *[other] { $count } persons
}
language-nb = Norsk (bokmål)
language-en = English
