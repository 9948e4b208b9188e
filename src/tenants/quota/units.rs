//! The one way people read and type sizes: CPU in cores, memory and storage in GiB, on every page (quota,
//! tenant forms, request form, previews, dashboards, messages). The API and the database keep their exact
//! units (millicores, MiB, GiB); this module converts at the edge. Pure functions, no I/O.

/// CPU in millicores for people: `0.5 cores`, `1 core`, `10.5 cores`, `20 cores` (up to three decimals).
pub fn cpu(millis: i64) -> String {
    let text = decimal(millis, 1000, 3);
    let unit = if millis == 1000 { "core" } else { "cores" };
    format!("{text} {unit}")
}

/// Memory in MiB for people, in GiB: `0.5 GiB`, `2 GiB`, `1.5 GiB`, `0.68 GiB` (up to two decimals; a
/// positive amount below 0.01 GiB reads `< 0.01 GiB`, never `0`).
pub fn memory(mib: i64) -> String {
    if mib > 0 && mib * 100 < 1024 {
        return "< 0.01 GiB".into();
    }
    format!("{} GiB", decimal(mib, 1024, 2))
}

/// Storage in GiB for people: `30 GiB`, `2,048 GiB`.
pub fn storage(gib: i64) -> String {
    format!("{} GiB", decimal(gib, 1, 0))
}

/// CPU in millicores as an input value in cores (`1.5`, `0.25`, `2`): what a form field shows.
pub fn cores_input(millis: i64) -> String {
    plain(millis, 1000, 3)
}

/// Memory in MiB as an input value in GiB (`2`, `1.5`, `0.68`).
pub fn gib_input(mib: i64) -> String {
    plain(mib, 1024, 2)
}

/// Read a number of cores as typed (`1.5`, `0,5`, `2`, ` 4 `) into millicores. At most three decimals
/// (a millicore is the smallest unit Kubernetes takes).
pub fn parse_cores(raw: &str) -> Result<i64, String> {
    let (whole, frac, digits) = split_decimal(raw, "cores")?;
    if digits > 3 {
        return Err("Enter cores with at most three decimals, e.g. 0.25.".into());
    }
    let frac_millis = frac * 10_i64.pow(3 - digits);
    whole
        .checked_mul(1000)
        .and_then(|m| m.checked_add(frac_millis))
        .ok_or_else(|| "Enter a smaller number of cores.".into())
}

/// Read an amount in GiB as typed (`2`, `1.5`, `0.5`) into MiB, rounded to the nearest MiB.
pub fn parse_gib(raw: &str) -> Result<i64, String> {
    let (whole, frac, digits) = split_decimal(raw, "GiB")?;
    if digits > 3 {
        return Err("Enter GiB with at most three decimals, e.g. 1.5.".into());
    }
    let scale = 10_i64.pow(digits);
    whole
        .checked_mul(1024)
        .and_then(|m| m.checked_add((frac * 1024 + scale / 2) / scale))
        .ok_or_else(|| "Enter a smaller amount of GiB.".into())
}

/// `(whole, fraction digits as a number, number of fraction digits)` of a non-negative decimal.
fn split_decimal(raw: &str, unit: &str) -> Result<(i64, i64, u32), String> {
    let text = raw.trim().replace(['_', ' '], "").replace(',', ".");
    if text.is_empty() {
        return Err(format!("Enter a number of {unit}."));
    }
    if text.starts_with('-') {
        return Err(format!("The number of {unit} cannot be negative."));
    }
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !all_digits(whole) || !all_digits(frac) {
        return Err(format!("Enter a number of {unit}, e.g. 1.5."));
    }
    let too_big = || format!("Enter a smaller number of {unit}.");
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_big())?
    };
    let digits = u32::try_from(frac.len()).map_err(|_| too_big())?;
    if digits > 6 {
        return Err(format!("Enter {unit} with at most three decimals."));
    }
    let frac_value: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| too_big())?
    };
    Ok((whole, frac_value, digits))
}

/// `value / per` with up to `places` decimals (trailing zeros dropped), digits grouped by thousands.
fn decimal(value: i64, per: i64, places: u32) -> String {
    let text = plain(value, per, places);
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let (sign, digits) = whole
        .strip_prefix('-')
        .map_or(("", whole), |rest| ("-", rest));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// `value / per` rounded to `places` decimals, trailing zeros dropped, no grouping (an input value).
fn plain(value: i64, per: i64, places: u32) -> String {
    let scale = 10_i64.pow(places);
    let negative = value < 0;
    let v = i128::from(value.unsigned_abs());
    let scaled = (v * i128::from(scale) + i128::from(per) / 2) / i128::from(per);
    let whole = scaled / i128::from(scale);
    let frac = scaled % i128::from(scale);
    let sign = if negative && scaled != 0 { "-" } else { "" };
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let frac = format!("{frac:0width$}", width = places as usize);
    format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_reads_in_cores() {
        assert_eq!(cpu(500), "0.5 cores");
        assert_eq!(cpu(250), "0.25 cores");
        assert_eq!(cpu(1000), "1 core");
        assert_eq!(cpu(1500), "1.5 cores");
        assert_eq!(cpu(10_500), "10.5 cores");
        assert_eq!(cpu(20_000), "20 cores");
        assert_eq!(cpu(1), "0.001 cores");
        assert_eq!(cpu(0), "0 cores");
        assert_eq!(cpu(1_000_000_000), "1,000,000 cores");
        assert_eq!(cpu(-4000), "-4 cores");
    }

    #[test]
    fn memory_and_storage_read_in_gib() {
        assert_eq!(memory(2048), "2 GiB");
        assert_eq!(memory(1536), "1.5 GiB");
        assert_eq!(memory(700), "0.68 GiB");
        assert_eq!(memory(65_536), "64 GiB");
        assert_eq!(memory(1), "< 0.01 GiB");
        assert_eq!(memory(0), "0 GiB");
        assert_eq!(memory(1_025_024), "1,001 GiB");
        assert_eq!(storage(30), "30 GiB");
        assert_eq!(storage(2048), "2,048 GiB");
    }

    #[test]
    fn input_values_round_trip() {
        for millis in [250, 500, 1000, 1500, 2250, 16_000, 1] {
            assert_eq!(parse_cores(&cores_input(millis)), Ok(millis));
        }
        for mib in [512, 1024, 1536, 2048, 65_536] {
            assert_eq!(parse_gib(&gib_input(mib)), Ok(mib));
        }
        assert_eq!(gib_input(700), "0.68");
    }

    #[test]
    fn typed_numbers_parse_or_explain() {
        assert_eq!(parse_cores(" 2 "), Ok(2000));
        assert_eq!(parse_cores("0,5"), Ok(500));
        assert_eq!(parse_cores(".25"), Ok(250));
        assert_eq!(parse_cores("1."), Ok(1000));
        assert_eq!(parse_gib("1.5"), Ok(1536));
        assert_eq!(parse_gib("0.1"), Ok(102));
        assert!(
            parse_cores("")
                .unwrap_err()
                .contains("Enter a number of cores")
        );
        assert!(parse_cores("-1").unwrap_err().contains("negative"));
        assert!(parse_cores("two").unwrap_err().contains("e.g. 1.5"));
        assert!(
            parse_cores("1.2345")
                .unwrap_err()
                .contains("three decimals")
        );
        assert!(
            parse_cores("99999999999999999999")
                .unwrap_err()
                .contains("smaller")
        );
        assert!(parse_gib("1e3").unwrap_err().contains("GiB"));
        assert!(parse_cores(".").is_err());
    }
}
