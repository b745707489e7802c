# Ord som går igjen overalt.

common-persons = { $count ->
    [one] { $count } person
   *[other] { $count } personer
}
language-nb = Norsk (bokmål)
language-en = English
