//! Numbers and times as a trader reads them, for the printed summary and the pictures' axes:
//! thousands separators, compact USD ($904.2M), clock times from the start of a run.

/// `v` rounded to `decimals`, with a comma between thousands: `thousands(100000.0, 0)` is
/// "100,000", `thousands(-71328.94, 1)` is "-71,328.9".
pub fn thousands(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').map_or((text.as_str(), ""), |(i, f)| (i, f));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3 + frac.len() + 2);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if !frac.is_empty() {
        grouped.push('.');
        grouped.push_str(frac);
    }
    // No "-0": a value that rounds to zero has no sign.
    let zero = text.bytes().all(|b| b == b'0' || b == b'.');
    if v < 0.0 && !zero { format!("-{grouped}") } else { grouped }
}

/// USD in one consistent style: billions and millions compact ("$1.36B", "$904.2M"), smaller
/// amounts whole with separators ("$174", "$12,500"); negative amounts lead with "-".
pub fn usd(v: f64) -> String {
    let sign = if v < 0.0 && v.abs() >= 0.5 { "-" } else { "" };
    let a = v.abs();
    let body = if a >= 999.95e6 {
        format!("{:.2}B", a / 1e9)
    } else if a >= 999_999.5 {
        format!("{:.1}M", a / 1e6)
    } else {
        thousands(a, 0)
    };
    format!("{sign}${body}")
}

/// A price in USD with separators and the decimals a tick needs: "$71,328.9".
pub fn price(v: f64) -> String {
    let decimals = if v.abs() >= 1_000.0 { 1 } else { 2 };
    format!("${}", thousands(v, decimals))
}

/// Seconds from the start as a clock, "HH:MM:SS" (hours run past 24 on long runs).
pub fn clock(secs: u64) -> String {
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Minutes from the start as "HH:MM", for axes.
pub fn clock_minutes(minutes: f64) -> String {
    let m = minutes.max(0.0).round() as u64;
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// A duration in words: "28 s", "2 min 10 s", "3 h 05 min".
pub fn duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 if secs.is_multiple_of(60) => format!("{} min", secs / 60),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3600, secs / 60 % 60),
    }
}

/// Where to put the labels of a time axis of `t_end` minutes: every 1, 2, 5, 10, 15, 30
/// minutes, or whole hours, so that there are at most `max` of them; each reads as "HH:MM".
pub fn time_ticks(t_end: f64, max: usize) -> Vec<f64> {
    const STEPS: [f64; 14] =
        [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 180.0, 360.0, 720.0, 1440.0, 2880.0, 10080.0];
    let max = max.max(2) as f64;
    let step =
        STEPS.iter().copied().find(|s| t_end / s <= max - 1.0).unwrap_or(t_end / (max - 1.0)).max(1e-9);
    (0..).map(|i| i as f64 * step).take_while(|&t| t <= t_end + 1e-9).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_a_trader_writes_them() {
        assert_eq!(thousands(100_000.0, 0), "100,000");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(1_000.0, 0), "1,000");
        assert_eq!(thousands(-71_328.94, 1), "-71,328.9");
        assert_eq!(thousands(-0.01, 1), "0.0");
        assert_eq!(thousands(1_198_889.0, 0), "1,198,889");
        assert_eq!(usd(904_214_121.0), "$904.2M");
        assert_eq!(usd(1_360_000_000.0), "$1.36B");
        assert_eq!(usd(999_999_999.0), "$1.00B");
        assert_eq!(usd(999_999.0), "$999,999");
        assert_eq!(usd(174.3), "$174");
        assert_eq!(usd(-77_200_000.0), "-$77.2M");
        assert_eq!(usd(0.0), "$0");
        assert_eq!(usd(-0.2), "$0");
        assert_eq!(price(71_328.94), "$71,328.9");
        assert_eq!(price(301.456), "$301.46");
    }

    #[test]
    fn times_read_as_clocks() {
        assert_eq!(clock(0), "00:00:00");
        assert_eq!(clock(161), "00:02:41");
        assert_eq!(clock(21_600), "06:00:00");
        assert_eq!(clock(90_061), "25:01:01");
        assert_eq!(clock_minutes(90.0), "01:30");
        assert_eq!(duration(28), "28 s");
        assert_eq!(duration(130), "2 min 10 s");
        assert_eq!(duration(180), "3 min");
        assert_eq!(duration(11_100), "3 h 05 min");
        // Six hours: hourly labels; ten minutes: every minute or two.
        assert_eq!(time_ticks(360.0, 12), vec![0.0, 60.0, 120.0, 180.0, 240.0, 300.0, 360.0]);
        let short = time_ticks(10.0, 12);
        assert_eq!(short.first(), Some(&0.0));
        assert!(short.len() <= 12 && short.windows(2).all(|w| w[1] - w[0] == 1.0), "{short:?}");
        assert!(time_ticks(0.0, 12) == vec![0.0]);
    }
}
