/** Great-circle distance for proximity steering: the geo module's haversine, under the name steering uses. */
export { distanceKm as greatCircleKm } from '../../geo/distance.js';
