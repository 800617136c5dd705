-- Who handles cases: regions (GB/T 2260), mediation organizations, their
-- mediators, and the deadline rules.

CREATE TABLE regions (
    code         text PRIMARY KEY CHECK (code ~ '^[1-9][0-9]{5}$'),
    display_name text NOT NULL,
    level        text NOT NULL CHECK (level IN ('PROVINCE', 'CITY', 'COUNTY')),
    parent_code  text REFERENCES regions (code),
    -- Assign accepted cases automatically; NULL follows the region above.
    auto_assign  boolean,
    version      bigint NOT NULL DEFAULT 1,
    CHECK ((level = 'PROVINCE') = (parent_code IS NULL))
);

CREATE INDEX regions_parent ON regions (parent_code);

INSERT INTO regions (code, display_name, level, parent_code) VALUES
    ('620000', '甘肃省', 'PROVINCE', NULL),
    ('620100', '兰州市', 'CITY', '620000'),
    ('620200', '嘉峪关市', 'CITY', '620000'),
    ('620300', '金昌市', 'CITY', '620000'),
    ('620400', '白银市', 'CITY', '620000'),
    ('620500', '天水市', 'CITY', '620000'),
    ('620600', '武威市', 'CITY', '620000'),
    ('620700', '张掖市', 'CITY', '620000'),
    ('620800', '平凉市', 'CITY', '620000'),
    ('620900', '酒泉市', 'CITY', '620000'),
    ('621000', '庆阳市', 'CITY', '620000'),
    ('621100', '定西市', 'CITY', '620000'),
    ('621200', '陇南市', 'CITY', '620000'),
    ('622900', '临夏回族自治州', 'CITY', '620000'),
    ('623000', '甘南藏族自治州', 'CITY', '620000'),
    ('621002', '西峰区', 'COUNTY', '621000'),
    ('621021', '庆城县', 'COUNTY', '621000'),
    ('621022', '环县', 'COUNTY', '621000'),
    ('621023', '华池县', 'COUNTY', '621000'),
    ('621024', '合水县', 'COUNTY', '621000'),
    ('621025', '正宁县', 'COUNTY', '621000'),
    ('621026', '宁县', 'COUNTY', '621000'),
    ('621027', '镇原县', 'COUNTY', '621000');

CREATE TABLE organizations (
    id            text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    display_name  text NOT NULL CHECK (display_name <> ''),
    type          text NOT NULL CHECK (type IN ('VILLAGE_COMMITTEE', 'TOWNSHIP_COMMITTEE', 'ENTERPRISE_COMMITTEE',
                      'PROFESSIONAL_COMMITTEE', 'STATIONED_ROOM', 'PERSONAL_STUDIO', 'WOMEN_STUDIO', 'COURT_CENTER')),
    region_code   text NOT NULL REFERENCES regions (code),
    -- The dispute types it takes; empty = every type.
    dispute_types text[] NOT NULL DEFAULT '{}',
    court_roster  boolean NOT NULL DEFAULT false,
    address       text NOT NULL DEFAULT '',
    phone         text NOT NULL DEFAULT '',
    active        boolean NOT NULL DEFAULT true,
    version       bigint NOT NULL DEFAULT 1,
    create_time   timestamptz NOT NULL,
    update_time   timestamptz NOT NULL
);

CREATE INDEX organizations_region ON organizations (region_code text_pattern_ops);

CREATE TABLE mediators (
    id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    display_name    text NOT NULL CHECK (display_name <> ''),
    organization_id text NOT NULL REFERENCES organizations (id),
    specialties     text[] NOT NULL DEFAULT '{}',
    court_roster    boolean NOT NULL DEFAULT false,
    phone           text NOT NULL DEFAULT '',
    active          boolean NOT NULL DEFAULT true,
    version         bigint NOT NULL DEFAULT 1,
    create_time     timestamptz NOT NULL,
    update_time     timestamptz NOT NULL
);

CREATE INDEX mediators_organization ON mediators (organization_id);

-- Time limits of accepted cases. The most specific matching rule applies:
-- '' matches anything. The catch-all rule ('', '', '') always exists.
CREATE TABLE deadline_rules (
    id                text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    display_name      text NOT NULL CHECK (display_name <> ''),
    source            text NOT NULL DEFAULT '',
    organization_type text NOT NULL DEFAULT '',
    court_procedure   text NOT NULL DEFAULT '' CHECK (court_procedure IN ('', 'ORDINARY', 'SUMMARY')),
    days              int NOT NULL CHECK (days BETWEEN 1 AND 365),
    max_extensions    int NOT NULL DEFAULT 0 CHECK (max_extensions BETWEEN 0 AND 10),
    extension_days    int NOT NULL DEFAULT 0 CHECK (extension_days BETWEEN 0 AND 365),
    version           bigint NOT NULL DEFAULT 1,
    UNIQUE (source, organization_type, court_procedure)
);

-- The defaults of the domain brief: people's mediation about a month,
-- longer with both parties' consent; 委派 30 days, extendable once by
-- consent; 委托 15 days (ordinary procedure) or 7 (summary procedure).
INSERT INTO deadline_rules (id, display_name, source, organization_type, court_procedure, days, max_extensions, extension_days) VALUES
    ('peoples-mediation', '人民调解', '', '', '', 30, 1, 30),
    ('court-delegated', '委派调解（诉前）', 'COURT_DELEGATED', '', '', 30, 1, 30),
    ('court-entrusted', '委托调解（普通程序）', 'COURT_ENTRUSTED', '', '', 15, 0, 0),
    ('court-entrusted-summary', '委托调解（简易程序）', 'COURT_ENTRUSTED', '', 'SUMMARY', 7, 0, 0);

CREATE FUNCTION deadline_rules_keep_catch_all() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.source = '' AND OLD.organization_type = '' AND OLD.court_procedure = '' THEN
        RAISE EXCEPTION 'the catch-all deadline rule % cannot be removed or narrowed', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER deadline_rules_catch_all_delete
    AFTER DELETE ON deadline_rules
    FOR EACH ROW EXECUTE FUNCTION deadline_rules_keep_catch_all();

CREATE TRIGGER deadline_rules_catch_all_update
    AFTER UPDATE OF source, organization_type, court_procedure ON deadline_rules
    FOR EACH ROW EXECUTE FUNCTION deadline_rules_keep_catch_all();
