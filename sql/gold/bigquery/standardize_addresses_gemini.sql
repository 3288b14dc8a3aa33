-- BigQuery only (seed §5): US addresses standardized to USPS format by Gemini, called inline
-- from SQL with AI.GENERATE_TEXT. One model call per address: it costs money and is not
-- deterministic, which is why the embedded default is the rule-based USPS standardizer.
--
-- This SELECT is the body of the CTE `standardized_addresses` of sql/gold/users_enriched.sql.
-- GeminiAddressStandardizer(model=...) fills in {model} (project.dataset.model) and {users}
-- (the silver users table); to run it by hand, replace both yourself. Setup: see README.md.
SELECT
  user_id,
  NULLIF(TRIM(ml_generate_text_llm_result), '') AS standardized_address
FROM AI.GENERATE_TEXT(
  MODEL `{model}`,
  (
    SELECT
      id AS user_id,
      CONCAT(
        'Standardize this address to USPS format. Return ONLY the formatted address on one ',
        'line, as: DELIVERY LINE, CITY, ST 12345\n',
        'Street: ', COALESCE(street_address, ''), '\n',
        'City: ', COALESCE(city, ''), '\n',
        'State: ', COALESCE(state, ''), '\n',
        'ZIP: ', COALESCE(postal_code, ''), '\n',
        'Country: ', COALESCE(country, '')
      ) AS prompt
    FROM {users}
    WHERE country = 'United States'
  ),
  STRUCT(0.0 AS temperature, 64 AS max_output_tokens, TRUE AS flatten_json_output)
)
