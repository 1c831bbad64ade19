"""What pages and documents are made of, read from the store: any thing (`describe`), facts
many pages share (`facts`), each kind's page data (`pagedata`, `agreements`), lists and
search (`listing`), VoID and DCAT (`void`), the ontology and shapes (`vocab`), pictures (`svg`,
`pictures`) and graphs shown as rows (`rows`)."""
