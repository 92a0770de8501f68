/// A constant-velocity Kalman filter on a box's centre, aspect ratio (width over height) and
/// height, in continuous time (seconds between updates may vary: the detector does not run on
/// every frame).
///
/// The state is (cx, cy, a, h) and their velocities. As in SORT and ByteTrack, process and
/// measurement noise are diagonal and proportional to the box's height, so the filter splits
/// exactly into four independent position–velocity filters, one per quantity.
struct BoxKalman {
  /// One quantity and its velocity, with their 2 × 2 covariance.
  struct Axis {
    var value: Double
    var velocity = 0.0
    var p00: Double
    var p01 = 0.0
    var p11: Double

    /// Moves `dt` seconds ahead; `q` is the process noise's standard deviation of the position
    /// and `qv` of the velocity, per second.
    mutating func predict(dt: Double, q: Double, qv: Double) {
      value += velocity * dt
      // P = F P Fᵀ + Q with F = [[1, dt], [0, 1]].
      p00 += dt * (2 * p01 + dt * p11) + q * q * dt
      p01 += dt * p11
      p11 += qv * qv * dt
    }

    /// Takes a measurement of the value with standard deviation `r`.
    mutating func update(_ measured: Double, r: Double) {
      let s = p00 + r * r
      guard s > 0 else { return }
      let k0 = p00 / s
      let k1 = p01 / s
      let innovation = measured - value
      value += k0 * innovation
      velocity += k1 * innovation
      let q00 = p00
      let q01 = p01
      p00 = (1 - k0) * q00
      p01 = (1 - k0) * q01
      p11 -= k1 * q01
    }
  }

  /// Noise, relative to the box's height (SORT/ByteTrack's weights 1/20 of the height for a
  /// measurement and, per frame at 30 frames/s, 1/20 for the position and 1/160 for the velocity
  /// of the process, expressed per second).
  struct Noise {
    /// Measurement standard deviation.
    var position = 0.05
    /// Process noise of the position (per √s) and of the velocity (per s per √s).
    var processPosition = 0.27
    var processVelocity = 1.0
    /// Initial uncertainty of the velocity, per second (a car covers several of its heights a second).
    var initialVelocity = 3.0
    var aspect = 0.1
    var processAspect = 0.05
  }

  var cx: Axis
  var cy: Axis
  var aspect: Axis
  var height: Axis
  let noise: Noise

  /// Starts at a measured box, still.
  init(_ box: Rect, noise: Noise = Noise()) {
    self.noise = noise
    let h = max(1, box.height)
    let p = 2 * noise.position * h
    let v = noise.initialVelocity * h
    cx = Axis(value: box.centreX, p00: p * p, p11: v * v)
    cy = Axis(value: box.centreY, p00: p * p, p11: v * v)
    aspect = Axis(value: box.width / h, p00: 1e-2 * 1e-2 * 4, p11: 1e-4)
    height = Axis(value: h, p00: p * p, p11: v * v / 4)
  }

  /// The box the state stands for.
  var box: Rect {
    let h = max(1, height.value)
    let w = max(1, aspect.value * h)
    return Rect(x: cx.value - w / 2, y: cy.value - h / 2, width: w, height: h)
  }

  /// Velocity of the centre, pixels per second.
  var velocity: (x: Double, y: Double) { (cx.velocity, cy.velocity) }

  /// Moves `dt` seconds ahead.
  mutating func predict(dt: Double) {
    guard dt > 0 else { return }
    let h = max(1, height.value)
    let q = noise.processPosition * h
    let qv = noise.processVelocity * h
    cx.predict(dt: dt, q: q, qv: qv)
    cy.predict(dt: dt, q: q, qv: qv)
    height.predict(dt: dt, q: q, qv: qv)
    aspect.predict(dt: dt, q: noise.processAspect, qv: noise.processAspect / 10)
    if height.value < 1 { height.value = 1 }
  }

  /// The box predicted `dt` seconds ahead, without changing the state.
  func predicted(after dt: Double) -> Rect {
    var copy = self
    copy.predict(dt: dt)
    return copy.box
  }

  /// Takes a measured box; `weight` above 1 makes it less trusted (a blob rather than a detection).
  mutating func update(_ box: Rect, weight: Double = 1) {
    let h = max(1, box.height)
    let r = noise.position * h * weight
    cx.update(box.centreX, r: r)
    cy.update(box.centreY, r: r)
    height.update(h, r: r)
    aspect.update(box.width / h, r: noise.aspect * weight)
  }
}
