// The live map: the site (per level) and the robots, drawn with Leaflet in L.CRS.Simple.
// Site metres map straight onto the plane: lng = x (east), lat = y (north).
const L = window.L;

const KIND_GLYPHS = { charger: '⚡', pickup: 'P', dropoff: 'D', parking: 'H', dock: '⚓', lift: '⇅', door: '▯' };
const ZONE_COLOURS = { 'keep-out': '#d1242f', 'slow-down': '#c58a00', 'one-way': '#8250df', exclusive: '#0969da' };
const STATE_COLOURS = { idle: '#2e9e5b', executing: '#1f6feb', charging: '#c58a00', paused: '#8250df', error: '#d1242f', offline: '#6e7781' };

/** The state a robot is shown in: offline/lost, error, paused, charging, executing or idle. */
export function robotState(robot) {
  if (robot.connection !== 'ONLINE') return 'offline';
  if (robot.errors.some(e => e.errorLevel === 'FATAL' || e.errorLevel === 'WARNING')) return 'error';
  if (robot.paused) return 'paused';
  if (robot.charging) return 'charging';
  if (robot.orderId && (robot.driving || robot.route)) return 'executing';
  return 'idle';
}

export class LiveMap {
  constructor(element, { onRobotClick, onLocationClick }) {
    this.map = L.map(element, { crs: L.CRS.Simple, minZoom: -3, maxZoom: 6, zoomSnap: 0.25, attributionControl: false, preferCanvas: true });
    this.renderer = L.canvas({ padding: 0.2 });
    this.onRobotClick = onRobotClick;
    this.onLocationClick = onLocationClick;
    this.levels = [];
    this.level = null;
    this.siteLayers = new Map();     // level -> L.LayerGroup
    this.waypoints = new Map();      // id -> {x, y, level}
    this.locationMarkers = new Map(); // name -> marker
    this.robots = new Map();         // id -> {marker, body, label, route:{base, horizon}, data, key}
    this.routeLayer = L.layerGroup().addTo(this.map);
    this.robotLayer = L.layerGroup().addTo(this.map);
    this.selected = null;
    this.map.on('zoomend', () => this.updateLabelVisibility());
  }

  /** Draws the site from GET /api/map (GeoJSON in site metres). */
  loadSite(geojson) {
    const header = geojson.robotfleet;
    this.levels = header.levels.map(l => l.id);
    for (const level of this.levels) this.siteLayers.set(level, L.layerGroup());
    const bounds = L.latLngBounds([]);
    const byType = type => geojson.features.filter(f => f.properties.type === type);
    const ll = ([x, y]) => [y, x];
    const layer = f => this.siteLayers.get(f.properties.level) ?? this.siteLayers.get(this.levels[0]);
    const rings = geometry => geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;

    for (const f of [...byType('floor'), ...byType('room')]) {
      for (const polygon of rings(f.geometry)) {
        const shape = L.polygon(polygon.map(r => r.map(ll)), { renderer: this.renderer, color: '#c9ced6', weight: 1, fillColor: '#ffffff', fillOpacity: 1, interactive: false });
        shape.addTo(layer(f));
        bounds.extend(shape.getBounds());
      }
    }
    for (const f of byType('zone')) {
      const colour = ZONE_COLOURS[f.properties.kind] ?? '#888';
      L.polygon(f.geometry.coordinates.map(r => r.map(ll)), { renderer: this.renderer, color: colour, weight: 1, dashArray: '4 4', fillColor: colour, fillOpacity: 0.12 })
        .bindTooltip(`${f.properties.kind} zone ${f.id}`).addTo(layer(f));
    }
    for (const f of byType('wall')) {
      const wall = L.polyline(f.geometry.coordinates.map(ll), { renderer: this.renderer, color: '#3d4450', weight: 3, interactive: false }).addTo(layer(f));
      bounds.extend(wall.getBounds());
    }
    for (const f of byType('door')) {
      L.polyline(f.geometry.coordinates.map(ll), { renderer: this.renderer, color: '#e36209', weight: 5 })
        .bindTooltip(`door ${f.properties.name ?? f.id}`).addTo(layer(f));
    }
    for (const f of byType('waypoint')) {
      const [x, y] = f.geometry.coordinates;
      this.waypoints.set(String(f.id), { x, y, level: f.properties.level });
      bounds.extend([y, x]);
    }
    for (const f of byType('lane')) {
      const [a, b] = f.geometry.coordinates;
      L.polyline([ll(a), ll(b)], { renderer: this.renderer, color: '#9aa5b1', weight: 2, interactive: false }).addTo(layer(f));
      if (f.properties.direction === 'one-way') this.arrow(a, b).addTo(layer(f));
    }
    for (const f of byType('waypoint')) {
      const [x, y] = f.geometry.coordinates;
      L.circleMarker([y, x], { renderer: this.renderer, radius: 3, color: '#6e7781', weight: 1, fillColor: '#fff', fillOpacity: 1 })
        .bindTooltip(f.properties.name ? `${f.properties.name} (${f.id})` : String(f.id)).addTo(layer(f));
    }
    for (const f of byType('location')) {
      const w = this.waypoints.get(String(f.properties.waypoint));
      if (!w) continue;
      const kinds = f.properties.kinds ?? [];
      const kind = ['charger', 'pickup', 'dropoff', 'parking', 'dock', 'lift', 'door'].find(k => kinds.includes(k));
      const icon = L.divIcon({ className: '', html: `<div class="loc-icon ${kind ?? ''}" title="${f.properties.name}">${KIND_GLYPHS[kind] ?? '•'}</div>`, iconSize: [20, 20], iconAnchor: [10, 10] });
      const marker = L.marker([w.y, w.x], { icon, keyboard: false, zIndexOffset: -100 })
        .bindTooltip(f.properties.name, { permanent: true, direction: 'bottom', offset: [0, 8], className: 'loc-label' })
        .on('click', () => this.onLocationClick?.(f.properties.name));
      marker.addTo(this.siteLayers.get(w.level));
      this.locationMarkers.set(f.properties.name, marker);
    }
    this.bounds = bounds.pad(0.05);
    this.showLevel(this.levels[0]);
    this.map.fitBounds(this.bounds);
    return this.levels;
  }

  /** A small arrow head at the middle of a one-way lane, pointing from a to b. */
  arrow([ax, ay], [bx, by]) {
    const mx = (ax + bx) / 2, my = (ay + by) / 2;
    const len = Math.hypot(bx - ax, by - ay) || 1;
    const ux = (bx - ax) / len, uy = (by - ay) / len, s = 0.35;
    return L.polyline([[my - uy * s + ux * s * 0.6, mx - ux * s - uy * s * 0.6], [my, mx], [my - uy * s - ux * s * 0.6, mx - ux * s + uy * s * 0.6]],
      { renderer: this.renderer, color: '#57606a', weight: 2, interactive: false });
  }

  showLevel(level) {
    for (const [id, group] of this.siteLayers) {
      if (id === level) group.addTo(this.map); else group.remove();
    }
    this.level = level;
    for (const robot of this.robots.values()) this.placeRobot(robot);
  }

  highlightLocations(names) {
    for (const [name, marker] of this.locationMarkers) marker.getElement()?.firstElementChild?.classList.toggle('picked', names.includes(name));
  }

  updateLabelVisibility() {
    const hide = this.robots.size > 40 || this.map.getZoom() < 2;
    this.map.getContainer().classList.toggle('map-hide-labels', hide);
  }

  /** Applies robots from the stream; returns nothing. Markers are created once and then moved. */
  upsertRobot(data) {
    let robot = this.robots.get(data.id);
    if (!robot) {
      const icon = L.divIcon({
        className: 'robot-icon', iconSize: [30, 30], iconAnchor: [15, 15],
        html: '<svg class="body" viewBox="0 0 30 30"><circle cx="15" cy="15" r="11" fill="#888" stroke="#fff" stroke-width="2"/><path d="M26 15 L17 9.5 L17 20.5 Z" fill="#fff" stroke="#111" stroke-width="0.8"/></svg><div class="label"></div>',
      });
      const marker = L.marker([0, 0], { icon, keyboard: false, zIndexOffset: 1000 }).on('click', () => this.onRobotClick?.(data.id));
      marker.addTo(this.robotLayer);
      const element = marker.getElement();
      element.dataset.robot = data.id;
      robot = { marker, element, body: element.querySelector('.body'), circle: element.querySelector('circle'), label: element.querySelector('.label'), base: null, horizon: null, key: '' };
      this.robots.set(data.id, robot);
      this.updateLabelVisibility();
    }
    robot.data = data;
    this.placeRobot(robot);
  }

  placeRobot(robot) {
    const data = robot.data;
    const p = data.robot.position;
    const visible = p && (p.mapId === this.level || !this.levels.includes(p.mapId));
    if (!visible) { robot.element.style.display = 'none'; this.drawRoute(robot, null); return; }
    robot.element.style.display = '';
    robot.marker.setLatLng([p.y, p.x]);
    const state = robotState({ ...data.robot, route: data.route });
    const battery = data.robot.battery == null ? '' : ` ${Math.round(data.robot.battery)}%`;
    const key = `${state}|${battery}|${p.theta.toFixed(2)}`;
    if (key !== robot.key) {
      robot.key = key;
      robot.body.style.transform = `rotate(${-p.theta}rad)`;
      robot.circle.setAttribute('fill', STATE_COLOURS[state]);
      robot.label.textContent = `${data.robot.serialNumber}${battery}`;
      robot.element.dataset.state = state;
    }
    this.drawRoute(robot, data.route);
  }

  drawRoute(robot, route) {
    const routeKey = route ? `${route.orderId}|${route.released}|${route.waypoints.join(',')}` : '';
    if (routeKey === robot.routeKey) return;
    robot.routeKey = routeKey;
    robot.base?.remove(); robot.horizon?.remove();
    robot.base = robot.horizon = null;
    if (!route) return;
    const points = route.waypoints.map(id => this.waypoints.get(id)).filter(w => w && w.level === this.level).map(w => [w.y, w.x]);
    const colour = STATE_COLOURS.executing;
    const released = Math.min(route.released, points.length);
    if (released >= 2) robot.base = L.polyline(points.slice(0, released), { renderer: this.renderer, color: colour, weight: 5, opacity: 0.75, interactive: false }).addTo(this.routeLayer);
    if (points.length > released) robot.horizon = L.polyline(points.slice(Math.max(0, released - 1)), { renderer: this.renderer, color: colour, weight: 2.5, dashArray: '6 6', opacity: 0.8, interactive: false }).addTo(this.routeLayer);
  }

  removeRobot(id) {
    const robot = this.robots.get(id);
    if (!robot) return;
    robot.marker.remove(); robot.base?.remove(); robot.horizon?.remove();
    this.robots.delete(id);
  }

  select(id) {
    if (this.selected) this.robots.get(this.selected)?.element.classList.remove('selected');
    this.selected = id;
    if (id) this.robots.get(id)?.element.classList.add('selected');
  }
}
