/** The regions countries belong to (regions.ts describes each). */
export type Region = 'us-west' | 'us-east' | 'sa-north' | 'sa-south' | 'eu-west' | 'eu-east' | 'me' | 'af-north' | 'af-south' | 'ap-south' | 'ap-southeast' | 'ap-northeast' | 'oceania';

/**
 * The country table we own: every ISO 3166-1 alpha-2 code (249) plus XK (Kosovo, user-assigned
 * but returned by every geo database), each with its load-balancing region and one
 * representative point (the capital unless noted; a country's point is only used when nothing
 * finer than the country is known).
 *
 * Regions follow Cloudflare's load-balancing regions (its Regions API is the only complete
 * published mapping; this table follows it as far as we know it, and geography where we don't).
 * Judgment calls, all overridable per load balancer with country pools:
 * - US and CA are split by state/province at Cloudflare (WNAM/ENAM); from a country alone that is
 *   impossible, so both map to us-east. MX maps to us-west (WNAM), as in Cloudflare's examples.
 * - Central America and the Caribbean: sa-north (NSAM). BM, GL, PM: us-east.
 * - Europe splits between eu-west (western Europe, the Nordics, Italy, Malta, Austria) and
 *   eu-east (central/eastern Europe, the Baltics, the Balkans, Greece, Cyprus, Turkey, Russia,
 *   the Caucasus and Central Asia, whose transit mostly runs through eastern Europe).
 * - Africa: af-north is northern and western Africa plus Chad; af-south is central, eastern
 *   (including the Horn) and southern Africa and the Indian Ocean islands.
 * - Peru and Ecuador: sa-north; Bolivia, Brazil and south: sa-south.
 * - Antarctica and the sub-antarctic islands go to the nearest region (AQ, HM: oceania;
 *   BV, TF: af-south; GS: sa-south).
 */
export const COUNTRIES: Readonly<Record<string, readonly [region: Region, lat: number, lon: number]>> = {
  // us-west (WNAM)
  MX: ['us-west', 19.43, -99.13], // Mexico City

  // us-east (ENAM)
  US: ['us-east', 37.42, -92.38], // center of population (2020 census, Missouri), not Washington
  CA: ['us-east', 45.42, -75.7], // Ottawa
  BM: ['us-east', 32.29, -64.78], // Hamilton
  GL: ['us-east', 64.18, -51.72], // Nuuk
  PM: ['us-east', 46.78, -56.18], // Saint-Pierre

  // sa-north (NSAM): Central America, the Caribbean, northern South America
  BZ: ['sa-north', 17.25, -88.77], // Belmopan
  CR: ['sa-north', 9.93, -84.08], // San José
  GT: ['sa-north', 14.63, -90.51], // Guatemala City
  HN: ['sa-north', 14.07, -87.19], // Tegucigalpa
  NI: ['sa-north', 12.11, -86.24], // Managua
  PA: ['sa-north', 8.98, -79.52], // Panama City
  SV: ['sa-north', 13.69, -89.22], // San Salvador
  AG: ['sa-north', 17.12, -61.85], // St. John's
  AI: ['sa-north', 18.22, -63.05], // The Valley
  AW: ['sa-north', 12.52, -70.03], // Oranjestad
  BB: ['sa-north', 13.1, -59.62], // Bridgetown
  BL: ['sa-north', 17.9, -62.85], // Gustavia
  BQ: ['sa-north', 12.15, -68.27], // Kralendijk
  BS: ['sa-north', 25.05, -77.35], // Nassau
  CU: ['sa-north', 23.11, -82.37], // Havana
  CW: ['sa-north', 12.11, -68.93], // Willemstad
  DM: ['sa-north', 15.3, -61.39], // Roseau
  DO: ['sa-north', 18.49, -69.93], // Santo Domingo
  GD: ['sa-north', 12.06, -61.75], // St. George's
  GP: ['sa-north', 16.0, -61.73], // Basse-Terre
  HT: ['sa-north', 18.59, -72.31], // Port-au-Prince
  JM: ['sa-north', 18.02, -76.8], // Kingston
  KN: ['sa-north', 17.3, -62.72], // Basseterre
  KY: ['sa-north', 19.29, -81.38], // George Town
  LC: ['sa-north', 14.01, -60.99], // Castries
  MF: ['sa-north', 18.07, -63.08], // Marigot
  MQ: ['sa-north', 14.62, -61.06], // Fort-de-France
  MS: ['sa-north', 16.79, -62.21], // Brades
  PR: ['sa-north', 18.47, -66.11], // San Juan
  SX: ['sa-north', 18.03, -63.05], // Philipsburg
  TC: ['sa-north', 21.46, -71.14], // Cockburn Town
  TT: ['sa-north', 10.66, -61.51], // Port of Spain
  VC: ['sa-north', 13.16, -61.22], // Kingstown
  VG: ['sa-north', 18.43, -64.62], // Road Town
  VI: ['sa-north', 18.34, -64.93], // Charlotte Amalie
  CO: ['sa-north', 4.71, -74.07], // Bogotá
  EC: ['sa-north', -0.18, -78.47], // Quito
  GF: ['sa-north', 4.92, -52.33], // Cayenne
  GY: ['sa-north', 6.8, -58.16], // Georgetown
  PE: ['sa-north', -12.05, -77.04], // Lima
  SR: ['sa-north', 5.85, -55.2], // Paramaribo
  VE: ['sa-north', 10.48, -66.9], // Caracas

  // sa-south (SSAM)
  AR: ['sa-south', -34.6, -58.38], // Buenos Aires
  BO: ['sa-south', -16.5, -68.15], // La Paz (seat of government)
  BR: ['sa-south', -15.79, -47.88], // Brasília
  CL: ['sa-south', -33.45, -70.67], // Santiago
  FK: ['sa-south', -51.7, -57.85], // Stanley
  GS: ['sa-south', -54.28, -36.51], // King Edward Point
  PY: ['sa-south', -25.26, -57.58], // Asunción
  UY: ['sa-south', -34.9, -56.16], // Montevideo

  // eu-west (WEU)
  AD: ['eu-west', 42.51, 1.52], // Andorra la Vella
  AT: ['eu-west', 48.21, 16.37], // Vienna
  AX: ['eu-west', 60.1, 19.94], // Mariehamn
  BE: ['eu-west', 50.85, 4.35], // Brussels
  CH: ['eu-west', 46.95, 7.45], // Bern
  DE: ['eu-west', 52.52, 13.4], // Berlin
  DK: ['eu-west', 55.68, 12.57], // Copenhagen
  ES: ['eu-west', 40.42, -3.7], // Madrid
  FI: ['eu-west', 60.17, 24.94], // Helsinki
  FO: ['eu-west', 62.01, -6.77], // Tórshavn
  FR: ['eu-west', 48.86, 2.35], // Paris
  GB: ['eu-west', 51.51, -0.13], // London
  GG: ['eu-west', 49.46, -2.54], // St Peter Port
  GI: ['eu-west', 36.14, -5.35], // Gibraltar
  IE: ['eu-west', 53.35, -6.26], // Dublin
  IM: ['eu-west', 54.15, -4.48], // Douglas
  IS: ['eu-west', 64.15, -21.94], // Reykjavík
  IT: ['eu-west', 41.9, 12.5], // Rome
  JE: ['eu-west', 49.19, -2.11], // St Helier
  LI: ['eu-west', 47.14, 9.52], // Vaduz
  LU: ['eu-west', 49.61, 6.13], // Luxembourg
  MC: ['eu-west', 43.74, 7.42], // Monaco
  MT: ['eu-west', 35.9, 14.51], // Valletta
  NL: ['eu-west', 52.37, 4.9], // Amsterdam
  NO: ['eu-west', 59.91, 10.75], // Oslo
  PT: ['eu-west', 38.72, -9.14], // Lisbon
  SE: ['eu-west', 59.33, 18.07], // Stockholm
  SJ: ['eu-west', 78.22, 15.65], // Longyearbyen
  SM: ['eu-west', 43.94, 12.45], // San Marino
  VA: ['eu-west', 41.9, 12.45], // Vatican City

  // eu-east (EEU)
  AL: ['eu-east', 41.33, 19.82], // Tirana
  BA: ['eu-east', 43.86, 18.41], // Sarajevo
  BG: ['eu-east', 42.7, 23.32], // Sofia
  BY: ['eu-east', 53.9, 27.56], // Minsk
  CY: ['eu-east', 35.19, 33.38], // Nicosia
  CZ: ['eu-east', 50.08, 14.44], // Prague
  EE: ['eu-east', 59.44, 24.75], // Tallinn
  GR: ['eu-east', 37.98, 23.73], // Athens
  HR: ['eu-east', 45.81, 15.98], // Zagreb
  HU: ['eu-east', 47.5, 19.04], // Budapest
  LT: ['eu-east', 54.69, 25.28], // Vilnius
  LV: ['eu-east', 56.95, 24.11], // Riga
  MD: ['eu-east', 47.01, 28.86], // Chișinău
  ME: ['eu-east', 42.44, 19.26], // Podgorica
  MK: ['eu-east', 42.0, 21.43], // Skopje
  PL: ['eu-east', 52.23, 21.01], // Warsaw
  RO: ['eu-east', 44.43, 26.1], // Bucharest
  RS: ['eu-east', 44.79, 20.45], // Belgrade
  RU: ['eu-east', 55.76, 37.62], // Moscow
  SI: ['eu-east', 46.06, 14.51], // Ljubljana
  SK: ['eu-east', 48.15, 17.11], // Bratislava
  TR: ['eu-east', 39.93, 32.86], // Ankara
  UA: ['eu-east', 50.45, 30.52], // Kyiv
  XK: ['eu-east', 42.66, 21.17], // Pristina
  AM: ['eu-east', 40.18, 44.51], // Yerevan
  AZ: ['eu-east', 40.41, 49.87], // Baku
  GE: ['eu-east', 41.72, 44.79], // Tbilisi
  KG: ['eu-east', 42.87, 74.59], // Bishkek
  KZ: ['eu-east', 51.17, 71.45], // Astana
  TJ: ['eu-east', 38.56, 68.77], // Dushanbe
  TM: ['eu-east', 37.96, 58.33], // Ashgabat
  UZ: ['eu-east', 41.3, 69.24], // Tashkent

  // me (ME)
  AE: ['me', 24.45, 54.38], // Abu Dhabi
  BH: ['me', 26.23, 50.59], // Manama
  IL: ['me', 32.09, 34.78], // Tel Aviv (the network hub)
  IQ: ['me', 33.32, 44.36], // Baghdad
  IR: ['me', 35.69, 51.39], // Tehran
  JO: ['me', 31.95, 35.93], // Amman
  KW: ['me', 29.38, 47.99], // Kuwait City
  LB: ['me', 33.89, 35.5], // Beirut
  OM: ['me', 23.59, 58.41], // Muscat
  PS: ['me', 31.9, 35.2], // Ramallah
  QA: ['me', 25.29, 51.53], // Doha
  SA: ['me', 24.71, 46.68], // Riyadh
  SY: ['me', 33.51, 36.29], // Damascus
  YE: ['me', 15.37, 44.19], // Sanaa

  // af-north (NAF): northern and western Africa
  DZ: ['af-north', 36.75, 3.06], // Algiers
  EG: ['af-north', 30.04, 31.24], // Cairo
  EH: ['af-north', 27.15, -13.2], // Laayoune
  LY: ['af-north', 32.89, 13.19], // Tripoli
  MA: ['af-north', 34.02, -6.83], // Rabat
  SD: ['af-north', 15.5, 32.56], // Khartoum
  TN: ['af-north', 36.81, 10.18], // Tunis
  BF: ['af-north', 12.37, -1.52], // Ouagadougou
  BJ: ['af-north', 6.5, 2.6], // Porto-Novo
  CI: ['af-north', 6.83, -5.29], // Yamoussoukro
  CV: ['af-north', 14.93, -23.51], // Praia
  GH: ['af-north', 5.6, -0.19], // Accra
  GM: ['af-north', 13.45, -16.58], // Banjul
  GN: ['af-north', 9.64, -13.58], // Conakry
  GW: ['af-north', 11.86, -15.6], // Bissau
  LR: ['af-north', 6.3, -10.8], // Monrovia
  ML: ['af-north', 12.64, -8.0], // Bamako
  MR: ['af-north', 18.08, -15.98], // Nouakchott
  NE: ['af-north', 13.51, 2.11], // Niamey
  NG: ['af-north', 9.08, 7.4], // Abuja
  SL: ['af-north', 8.48, -13.23], // Freetown
  SN: ['af-north', 14.72, -17.47], // Dakar
  TD: ['af-north', 12.13, 15.06], // N'Djamena
  TG: ['af-north', 6.13, 1.22], // Lomé

  // af-south (SAF): central, eastern and southern Africa
  AO: ['af-south', -8.84, 13.23], // Luanda
  CD: ['af-south', -4.44, 15.27], // Kinshasa
  CF: ['af-south', 4.39, 18.56], // Bangui
  CG: ['af-south', -4.27, 15.28], // Brazzaville
  CM: ['af-south', 3.87, 11.52], // Yaoundé
  GA: ['af-south', 0.42, 9.47], // Libreville
  GQ: ['af-south', 3.75, 8.78], // Malabo
  SS: ['af-south', 4.85, 31.58], // Juba
  ST: ['af-south', 0.34, 6.73], // São Tomé
  BI: ['af-south', -3.43, 29.93], // Gitega
  DJ: ['af-south', 11.59, 43.15], // Djibouti
  ER: ['af-south', 15.32, 38.93], // Asmara
  ET: ['af-south', 9.03, 38.74], // Addis Ababa
  KE: ['af-south', -1.29, 36.82], // Nairobi
  KM: ['af-south', -11.7, 43.26], // Moroni
  MG: ['af-south', -18.88, 47.51], // Antananarivo
  MU: ['af-south', -20.16, 57.5], // Port Louis
  MW: ['af-south', -13.96, 33.79], // Lilongwe
  MZ: ['af-south', -25.97, 32.57], // Maputo
  RE: ['af-south', -20.88, 55.45], // Saint-Denis
  RW: ['af-south', -1.94, 30.06], // Kigali
  SC: ['af-south', -4.62, 55.45], // Victoria
  SO: ['af-south', 2.05, 45.32], // Mogadishu
  TZ: ['af-south', -6.16, 35.75], // Dodoma
  UG: ['af-south', 0.35, 32.58], // Kampala
  YT: ['af-south', -12.78, 45.23], // Mamoudzou
  ZM: ['af-south', -15.39, 28.32], // Lusaka
  ZW: ['af-south', -17.83, 31.05], // Harare
  BW: ['af-south', -24.65, 25.91], // Gaborone
  LS: ['af-south', -29.31, 27.48], // Maseru
  NA: ['af-south', -22.56, 17.08], // Windhoek
  SZ: ['af-south', -26.32, 31.13], // Mbabane
  ZA: ['af-south', -25.75, 28.19], // Pretoria
  SH: ['af-south', -15.92, -5.72], // Jamestown
  BV: ['af-south', -54.42, 3.36], // Bouvet Island
  TF: ['af-south', -49.35, 70.22], // Port-aux-Français

  // ap-south (SAS)
  AF: ['ap-south', 34.53, 69.17], // Kabul
  BD: ['ap-south', 23.81, 90.41], // Dhaka
  BT: ['ap-south', 27.47, 89.64], // Thimphu
  IN: ['ap-south', 28.61, 77.21], // New Delhi
  IO: ['ap-south', -7.32, 72.42], // Diego Garcia
  LK: ['ap-south', 6.93, 79.86], // Colombo
  MV: ['ap-south', 4.18, 73.51], // Malé
  NP: ['ap-south', 27.72, 85.32], // Kathmandu
  PK: ['ap-south', 33.68, 73.05], // Islamabad

  // ap-southeast (SEAS)
  BN: ['ap-southeast', 4.9, 114.94], // Bandar Seri Begawan
  CC: ['ap-southeast', -12.19, 96.83], // West Island
  CX: ['ap-southeast', -10.42, 105.68], // Flying Fish Cove
  ID: ['ap-southeast', -6.21, 106.85], // Jakarta
  KH: ['ap-southeast', 11.56, 104.92], // Phnom Penh
  LA: ['ap-southeast', 17.98, 102.63], // Vientiane
  MM: ['ap-southeast', 19.76, 96.08], // Naypyidaw
  MY: ['ap-southeast', 3.14, 101.69], // Kuala Lumpur
  PH: ['ap-southeast', 14.6, 120.98], // Manila
  SG: ['ap-southeast', 1.35, 103.82], // Singapore
  TH: ['ap-southeast', 13.76, 100.5], // Bangkok
  TL: ['ap-southeast', -8.56, 125.57], // Dili
  VN: ['ap-southeast', 21.03, 105.85], // Hanoi

  // ap-northeast (NEAS)
  CN: ['ap-northeast', 39.9, 116.41], // Beijing
  HK: ['ap-northeast', 22.32, 114.17], // Hong Kong
  JP: ['ap-northeast', 35.68, 139.69], // Tokyo
  KP: ['ap-northeast', 39.04, 125.76], // Pyongyang
  KR: ['ap-northeast', 37.57, 126.98], // Seoul
  MN: ['ap-northeast', 47.89, 106.91], // Ulaanbaatar
  MO: ['ap-northeast', 22.2, 113.54], // Macau
  TW: ['ap-northeast', 25.03, 121.57], // Taipei

  // oceania (OC)
  AQ: ['oceania', -77.85, 166.67], // McMurdo Station
  AS: ['oceania', -14.28, -170.7], // Pago Pago
  AU: ['oceania', -35.28, 149.13], // Canberra
  CK: ['oceania', -21.21, -159.78], // Avarua
  FJ: ['oceania', -18.14, 178.44], // Suva
  FM: ['oceania', 6.92, 158.16], // Palikir
  GU: ['oceania', 13.48, 144.75], // Hagåtña
  HM: ['oceania', -53.1, 73.52], // Heard Island
  KI: ['oceania', 1.33, 172.98], // South Tarawa
  MH: ['oceania', 7.09, 171.38], // Majuro
  MP: ['oceania', 15.18, 145.75], // Saipan
  NC: ['oceania', -22.28, 166.46], // Nouméa
  NF: ['oceania', -29.06, 167.96], // Kingston
  NR: ['oceania', -0.55, 166.92], // Yaren
  NU: ['oceania', -19.06, -169.92], // Alofi
  NZ: ['oceania', -41.29, 174.78], // Wellington
  PF: ['oceania', -17.54, -149.57], // Papeete
  PG: ['oceania', -9.44, 147.18], // Port Moresby
  PN: ['oceania', -25.07, -130.1], // Adamstown
  PW: ['oceania', 7.5, 134.62], // Ngerulmud
  SB: ['oceania', -9.43, 159.95], // Honiara
  TK: ['oceania', -9.2, -171.85], // Fakaofo
  TO: ['oceania', -21.14, -175.2], // Nukuʻalofa
  TV: ['oceania', -8.52, 179.2], // Funafuti
  UM: ['oceania', 19.28, 166.65], // Wake Island
  VU: ['oceania', -17.73, 168.32], // Port Vila
  WF: ['oceania', -13.28, -176.17], // Mata-Utu
  WS: ['oceania', -13.83, -171.76], // Apia
};
