/// How a simulated customer writes: Mandarin, English, or Mandarin flavoured with one of the five
/// dialects the lexicons cover.
enum CorpusVoice: String, CaseIterable, Sendable {
    case mandarin, english, yue, sichuan, dongbei, wu, minnan

    var language: Language { self == .english ? .en : .zh }
    var isDialect: Bool { self != .mandarin && self != .english }
}

/// What customers say in one situation, in Mandarin and English, plus what a dialect speaker says
/// instead where there is a phrase known to work; otherwise a dialect speaker writes Mandarin.
/// `{name}` marks a value filled per session or per message (see `CorpusPhrases.fillers`).
struct PhraseList: Sendable {
    var zh: [String]
    var en: [String]
    var dialects: [CorpusVoice: [String]] = [:]
}

/// The phrase bank of the corpus generator.
///
/// Kept as a Swift table rather than a YAML file beside the rules: these phrases are not rules (a
/// rule author never edits them to change the bot), each list belongs to one step of the
/// simulated customer in `SimulatedCustomer`, so the compiler checks that every step has its
/// phrases, and the generator needs no file at run time (tests and benchmarks build it from a
/// rule set alone). Changing a phrase changes the committed corpus, which is regenerated with
/// `switchboard corpus` anyway.
///
/// Sources: the conversation tests under `transcripts/tests/` (every dialect phrase is one of
/// `zh-dialects.yaml`'s or built from the same lexicon words) and the examples in `intents/`;
/// `CorpusGeneratorTests` checks that each opening phrase is understood as the intent it is for.
enum CorpusPhrases {
    // MARK: Billing

    static let balance = PhraseList(
        zh: [
            "我的话费还剩多少", "我这张卡还有多少钱", "帮我查下话费还剩多少", "查一下话费余额", "查话费", "我话费还有多少",
            "我是不是欠费了，欠了多少", "余额还有多少", "帮我看看还有多少钱", "话费余额查询",
        ],
        en: [
            "How much credit do I have left?", "what's my balance", "check my balance", "what's my account balance?",
            "how much money is left on my phone?", "do I have any unpaid bills?",
            "Do I owe you anything at the moment?",
            "my balance please",
        ],
        dialects: [
            .yue: ["我想睇下我仲剩幾多錢", "查下我仲有幾多錢"],
            .sichuan: ["查哈子我话费还剩好多", "帮我查哈我还有好多话费", "我卡里头还有好多钱嘛"],
            .dongbei: ["帮我瞅瞅还有多少话费"],
            .wu: ["帮我查查看话费还有几钿", "我话费还有几钿"],
            .minnan: ["我欲查話費偌濟"],
        ])

    static let statement = PhraseList(
        zh: [
            "上个月账单多少", "上个月花了多少", "{month}月的账单给我看看", "{month}月的账单", "上上个月账单", "帮我看看上个月的账单",
            "查询账单", "上个月账单多少，交了没有", "{month}月份账单是多少钱",
        ],
        en: [
            "Can you show me last month's bill?", "What's on my {monthName} bill?",
            "how much was my bill in {monthName}?",
            "what did I spend last month", "show my bill", "what was my bill for {monthName}?",
        ],
        dialects: [
            .yue: ["上個月張單點解咁貴"], .sichuan: ["上个月账单啥子东西扣了恁个多"], .dongbei: ["上个月账单咋这么多呢，瞅瞅"],
            .wu: ["上个号头账单哪能介贵"], .minnan: ["頂個月的帳單是按怎遮爾貴"],
        ])

    /// "What is this charge?" about a line of the customer's own last bill (`{amount}`).
    static let chargeQuestion = PhraseList(
        zh: ["上个月那{amount}块钱是什么费用", "10月账单里{amount}元是怎么收的", "账单上{amount}块是什么钱"],
        en: [
            "why did I pay {amount} yuan extra on last month's bill", "what is the {amount} yuan charge on my bill",
            "what's the ¥{amount} on my October bill?",
        ])

    /// The never-ordered video ringtone of the Cantonese demo account.
    static let ringtoneDispute = PhraseList(
        zh: ["我没订过视频彩铃，为什么扣我10块", "我从来没开通过什么视频彩铃，凭什么扣我钱", "上个月账单里那个彩铃我根本没订过"],
        en: [
            "There's a 10 yuan video ringtone charge on my bill that I never ordered",
            "why was I charged for a ringtone I never ordered",
        ],
        dialects: [.yue: ["點解扣咗我十蚊，我冇訂過咩視頻彩鈴", "我冇訂過彩鈴，點解扣我錢"], .dongbei: ["你们嘎哈乱扣我钱，那10块钱是啥玩意"]])

    static let dispute = PhraseList(
        zh: ["我觉得账单有问题，我要申诉", "乱扣费", "账单上有一笔钱不对，我要申诉", "你们多扣我钱了，我要申诉"],
        en: ["I want to dispute a charge on my bill", "I think I was overcharged last month"])

    /// Which line, when the bot asks (`{amount}` from the customer's bill).
    static let disputeAmount = PhraseList(
        zh: ["{amount}块那笔", "{amount}元那个", "就是{amount}块钱那一笔"],
        en: ["{amount} yuan", "the {amount} yuan one", "it's the ¥{amount} one"])

    static let payment = PhraseList(
        zh: [
            "怎么交话费", "那我怎么交钱", "交话费有什么渠道", "我用微信交了话费怎么没到账", "支付宝充值失败了", "充值没成功怎么办",
            "话费怎么充值",
        ],
        en: [
            "How do I top up my phone credit?", "how do I pay my phone bill", "my payment was declined",
            "my top-up didn't go through", "I tried to pay my bill with Alipay but the payment failed",
            "I paid by WeChat but the money never arrived",
        ])

    static let invoice = PhraseList(
        zh: ["开电子发票", "帮我开个上个月的发票", "我要开{month}月的发票", "能开增值税发票吗"],
        en: [
            "Can I get an e-invoice for last month?", "I need an invoice for my {monthName} bill",
            "I need a VAT invoice",
        ])

    // MARK: Plans and add-ons

    static let planCurrent = PhraseList(
        zh: ["我现在什么套餐", "我现在用的什么套餐，包含多少东西", "我办的套餐是哪个", "我要看我的套餐"],
        en: ["What plan am I on?", "what does my plan include?"])

    /// A plan change that names the plan (`{plan}`: a name or alias of the catalogue; `{fee}`).
    static let planChangeNamed = PhraseList(
        zh: ["想换个{fee}的套餐", "帮我换成{plan}", "换到{fee}元套餐", "换成{plan}", "我要换到{fee}元套餐"],
        en: ["switch me to {plan}", "I want to move to {plan}", "change my plan to {plan}", "can I switch to {plan}?"],
        dialects: [.yue: ["我想轉去{fee}蚊嘅計劃"], .sichuan: ["那给我换个{fee}的套餐噻"], .dongbei: ["现在这套餐流量贼少，咋整，给我换成{plan}呗"]])

    static let planChange = PhraseList(
        zh: ["我要换套餐", "我想换套餐", "我要改套餐", "想换个便宜点的套餐"],
        en: ["I want to change my plan", "I'd like to upgrade my plan", "change my plan"],
        dialects: [.wu: ["阿拉想换只便宜一眼个套餐"], .minnan: ["我欲換方案"]])

    /// The answer to "which plan?".
    static let planChoice = PhraseList(
        zh: ["{plan}", "{plan}吧", "那就换成{plan}", "{fee}的那个"],
        en: ["{plan}", "{plan} please", "the {fee} plan"])

    static let planRecommend = PhraseList(
        zh: ["哪个套餐适合我", "有没有更适合我的套餐推荐一下", "帮我推荐个合适的套餐", "哪个套餐比较划算"],
        en: [
            "which plan would suit me best?", "what plan should I be on?", "what plan is best for me",
            "which plan should I get?",
        ])

    /// "How much do you use?", asked of someone the bot does not know.
    static let usageAnswer = PhraseList(
        zh: ["每个月大概用{gb}G流量，打{minutes}分钟电话", "流量一个月{gb}个G左右，电话{minutes}分钟", "一个月{gb}G流量吧"],
        en: ["about {gb} GB and {minutes} minutes a month", "around {gb} GB of data, {minutes} minutes of calls"])

    static let usage = PhraseList(
        zh: [
            "流量还剩多少", "我的流量还剩多少", "这个月流量还剩多少，电话还能打多久", "我的流量用了多少了", "看看我还剩多少流量",
            "帮我看看这个月还有多少流量", "我这个月电话打了多少分钟了",
        ],
        en: [
            "how much data do I have left?", "how much data and how many minutes do I have left?",
            "how many minutes have I got left this month", "how much data have I used?",
        ],
        dialects: [
            .yue: ["今個月仲剩幾多流量", "幫我睇下仲有幾多數據"], .sichuan: ["我这流量还剩好多嘛"], .dongbei: ["帮我瞅瞅流量还剩多少"],
            .wu: ["迭个月流量还剩几化"], .minnan: ["阮的流量猶偌濟"],
        ])

    /// Subscribing, by add-on code; `addonGeneric` does not say which.
    static let addonSubscribe: [String: PhraseList] = [
        "data_10g": PhraseList(
            zh: ["我想加个流量包", "加个10G流量包", "我要订个流量包"],
            en: ["I'd like to add a data pack", "add a 10GB data pack please"],
            dialects: [.sichuan: ["这个月流量莫得了，给我加个流量包噻"], .dongbei: ["流量贼拉不够用，给我整个流量包"]]),
        "video_ringtone": PhraseList(
            zh: ["开通视频彩铃", "我想开个视频彩铃"], en: ["I'd like the video ringtone", "add the video ringtone"]),
    ]
    static let addonGeneric = PhraseList(zh: ["我想订点业务"], en: ["I'd like to subscribe to an add-on"])
    static let addonChoice: [String: PhraseList] = [
        "data_10g": PhraseList(zh: ["10G的流量包", "流量包"], en: ["the 10 GB data pack", "a data pack"]),
        "video_ringtone": PhraseList(zh: ["视频彩铃"], en: ["the video ringtone"]),
    ]
    static let addonUnsubscribe: [String: PhraseList] = [
        "data_10g": PhraseList(zh: ["流量包不要了，帮我退掉", "把10G流量包退了"], en: ["please cancel my 10 GB data pack"]),
        "video_ringtone": PhraseList(
            zh: ["退订彩铃", "把彩铃退了吧", "彩铃给我关了"],
            en: ["please stop the video ringtone service", "cancel my video ringtone"],
            dialects: [.yue: ["我想退咗個彩鈴"], .wu: ["我覅迭个彩铃了，帮我退脱"]]),
    ]

    // MARK: Faults

    /// Reporting a fault, by fault type (CONTRACT.md section 2).
    static let faults: [String: PhraseList] = [
        "no_signal": PhraseList(
            zh: ["手机一点信号都没有", "手机没信号了", "我家里手机没有信号", "手机信号特别差"],
            en: ["there's no signal on my phone", "I have no signal at all", "my phone has no service"],
            dialects: [.yue: ["我部手機冇信號，點算好"], .sichuan: ["我手机莫得信号了，咋个办"]]),
        "slow_data": PhraseList(
            zh: ["网速特别慢", "上网特别卡", "4G网络很慢"],
            en: ["my data is really slow", "mobile data has been really slow lately"],
            dialects: [.dongbei: ["这网贼慢，咋整啊"]]),
        "broadband_outage": PhraseList(
            zh: ["家里宽带断了", "宽带断网了", "家里宽带连不上了"],
            en: ["my home broadband is down", "my broadband has been down since last night"],
            dialects: [.wu: ["侬好，阿拉屋里厢宽带断脱了"], .minnan: ["阮厝的網路袂通，按怎"]]),
        "call_failure": PhraseList(
            zh: ["这两天打电话老是打不出去", "我这手机打电话老是打不出去", "电话打不通"],
            en: ["calls keep dropping on my phone", "I can't make calls"]),
        "sms_failure": PhraseList(zh: ["收不到验证码短信", "短信发不出去"], en: ["I can't receive texts", "my texts won't send"]),
        "other": PhraseList(
            zh: ["手机识别不了sim卡", "手机读不出卡"], en: ["my SIM card is not recognised", "my phone says no SIM"]),
    ]

    /// The same fault again (a repeat contact).
    static let faultsAgain: [String: PhraseList] = [
        "no_signal": PhraseList(zh: ["手机又没信号了"], en: ["no signal again on my phone"]),
        "slow_data": PhraseList(zh: ["网又卡得不行了"], en: ["my data is slow again"]),
        "broadband_outage": PhraseList(zh: ["宽带又断了"], en: ["my broadband is down again"]),
        "call_failure": PhraseList(zh: ["电话又打不出去了"], en: ["calls are failing again"]),
        "sms_failure": PhraseList(zh: ["短信又收不到了"], en: ["I still can't receive texts"]),
        "other": PhraseList(zh: ["sim卡又识别不了了"], en: ["my SIM is not recognised again"]),
    ]

    /// A fault report that does not say what is wrong yet.
    static let faultGeneric = PhraseList(zh: ["我要报修", "报个故障"], en: ["I want to report a fault", "report a fault"])

    static let place = PhraseList(
        zh: ["在家里，{estate}", "{district}区{street}{number}号", "小区门口", "公司", "在家里，{estate}{number}栋", "单位里"],
        en: [
            "at home, {estateEn} block {number}", "Room {number}03, Tower B, {districtEn} SOHO",
            "in the office at {number} Century Avenue",
            "at home in {districtEn}",
        ],
        dialects: [
            .yue: ["旺角彌敦道呢度"], .sichuan: ["成都春熙路这边"], .dongbei: ["沈阳铁西区这嘎达"], .wu: ["徐汇区漕溪北路"],
            .minnan: ["厦门思明区"],
        ])

    static let since = PhraseList(
        zh: ["前天晚上开始的", "今天早上", "{weekday}开始", "上周", "昨天半夜", "昨天开始的", "两三天了"],
        en: [
            "since {weekdayEn}", "since about {hour} this morning", "for about a week", "about three days ago",
            "since last night",
        ],
        dialects: [
            .yue: ["尋日夜晚開始"], .sichuan: ["昨天晚黑开始的"], .dongbei: ["今儿个早上开始的"], .wu: ["今朝早浪开始个"],
            .minnan: ["昨昏暗時"],
        ])

    static let faultStatus = PhraseList(
        zh: ["报修的师傅什么时候来", "我报修的宽带什么时候有人来修", "我之前报修的进度怎么样了", "报修两天了师傅还没来"],
        en: [
            "when is the engineer coming?", "any update on my repair?",
            "when is the engineer coming to fix my broadband",
        ])

    // MARK: Complaints, leaving, privacy

    static let complaintOpener = PhraseList(
        zh: ["我要投诉", "我要投诉你们", "我想投诉一下"],
        en: ["I want to make a complaint", "I'd like to lodge a complaint", "I'd like to make a formal complaint"])

    static let complaintAgain = PhraseList(
        zh: ["我上次投诉的事到现在都没人理，我要再投诉"],
        en: ["I complained yesterday and nobody has called me back, I want to complain again"])

    /// What the complaint is about: five themes, each worded several ways with different numbers,
    /// so complaint mining has clusters to find.
    static let complaints: [PhraseList] = [
        // Staff in the shops.
        PhraseList(
            zh: [
                "营业厅的工作人员态度很差，办个业务让我等了{n}个小时", "{district}营业厅的店员态度恶劣，还乱给我办业务",
                "营业厅排队排了{n}个多小时，窗口只开了一个", "营业员说话很冲，问两句就不耐烦",
            ],
            en: [
                "the shop assistant at your {districtEn} store was rude to me last week",
                "the staff at the store made me wait {n} hours",
                "your {districtEn} shop staff were rude and unhelpful",
            ]),
        // Engineers and installers.
        PhraseList(
            zh: [
                "上门装宽带的师傅把我家墙打坏了就走了", "约好的师傅{weekday}没来，也没人打电话通知", "装宽带的师傅迟到了{n}个小时",
                "维修师傅放了我{n}次鸽子",
            ],
            en: [
                "the engineer missed two appointments and nobody called me",
                "the installer damaged my wall and just left",
                "the engineer was {n} hours late and didn't apologise",
            ]),
        // Money taken.
        PhraseList(
            zh: ["你们多扣了我{amount}块钱，打了几次电话都没解决", "莫名其妙扣了我{amount}元流量费", "说好的优惠没给，每个月多收我{amount}块"],
            en: [
                "I was charged for extra data even though your app said I had plenty left",
                "you overcharged me {amount} yuan and nobody fixed it",
                "the discount I was promised never came, I pay {amount} yuan too much",
            ]),
        // The network.
        PhraseList(
            zh: ["家里信号差了快{n}个月了，报修好几次都没人管", "宽带一个月断了{n}次，每次都说修好了"],
            en: [
                "my signal has been terrible for {n} months and nobody fixes it",
                "my broadband dropped {n} times this month",
            ]),
        // Sales.
        PhraseList(
            zh: ["营业员骗我办了{n}年合约", "没经过我同意就给我开通了会员业务"],
            en: [
                "the shop sold me a contract upgrade I never agreed to and the staff were rude",
                "someone signed me up for a service I never asked for",
            ]),
    ]

    static let accountCancel = PhraseList(
        zh: ["我要销户", "我这个号不想用了，要注销", "携号转网怎么办理", "我想携号转网到别家", "我要携号转网"],
        en: [
            "I want to close my account", "how do I port my number out?", "can I keep my number if I switch providers?",
            "I'd like to cancel my contract and leave", "I'd like to port out my number",
        ])

    static let privacy = PhraseList(
        zh: [
            "我的个人信息是不是被泄露了", "我的个人信息是不是被泄露了，老有人打电话推销", "最近骚扰电话特别多，你们是不是把我号码卖了",
            "我的个人信息是不是被泄露了，最近老有陌生人知道我的名字打电话来",
        ],
        en: [
            "I think my personal data has been leaked", "who can see my personal information?",
            "I keep getting spam calls, how do I stop them?",
        ],
        dialects: [.minnan: ["我的資料敢有予人提去？逐工攏有人敲電話來"]])

    // MARK: People, the bot's limits, the elderly

    static let human = PhraseList(
        zh: ["转人工", "人工", "帮我转人工客服", "我要人工服务", "找个真人跟我说", "还是转人工吧"],
        en: [
            "let me talk to a real person", "agent", "I want to speak to an agent", "can I speak to an agent please",
            "human please",
            "I'd rather speak to a human",
        ],
        dialects: [.yue: ["我想搵人工", "我想搵真人同我講"], .minnan: ["我欲揣真人"]])

    /// Questions for another business, by theme (weather, food delivery, train tickets, flights,
    /// anything else): worded several ways so fallback mining finds each theme as a cluster.
    static let outOfScope: [PhraseList] = [
        PhraseList(
            zh: ["今天天气怎么样", "明天会下雨吗", "{city}明天多少度", "这周末天气好不好", "下午会不会下雨", "这几天天气预报怎么说"],
            en: [
                "what's the weather like tomorrow?", "what's the weather like today",
                "is it going to rain tomorrow in {cityEn}",
                "what's the temperature outside",
            ]),
        PhraseList(
            zh: ["帮我点个外卖", "我的外卖怎么还没到", "美团外卖怎么退款", "外卖送错了怎么办", "饿了么的订单怎么取消", "点一份麻辣烫外卖"],
            en: ["order me a pizza", "my takeaway order hasn't arrived", "where is my food delivery"]),
        PhraseList(
            zh: [
                "我想买张火车票", "帮我订明天去{city}的高铁票", "12306怎么退票", "火车票改签怎么弄", "高铁票怎么退",
                "明天去{city}的高铁还有票吗",
            ],
            en: [
                "book me a train ticket to {cityEn}", "how do I buy train tickets",
                "can I get a train ticket to {cityEn}",
            ]),
        PhraseList(zh: ["帮我订一张去{city}的机票"], en: ["book me a flight to {cityEn}"]),
        PhraseList(
            zh: ["讲个笑话", "推荐一部好看的电影", "你们那边有卖手机壳吗", "附近哪里有好吃的火锅", "帮我查一下快递到哪了"],
            en: ["tell me a joke", "who won the football last night", "can you recommend a good restaurant nearby?"]),
    ]

    /// An older customer talking about themselves, with no request yet.
    static let elderlySelf = PhraseList(
        zh: [
            "我年纪大了，眼睛不好使，字太小看不清", "我今年七十六了，孙子给我弄的这个手机，我不会用", "我这是老人机，字太小看不清",
            "我七十多了，老伴不在家", "我都八十了，老伴走了，这手机我弄不明白",
        ],
        en: ["I'm 80 and my eyes are not good", "my grandson set up this phone for me"])

    /// The same with a request in it.
    static let elderlyRequest = PhraseList(
        zh: ["我是老年人，眼睛不好，帮我看看话费还剩多少", "我七十多了，不会用智能手机，想问问怎么交话费", "退休了，老伴让我问问话费怎么交"],
        en: ["I'm a pensioner, how much money is left on my phone?"],
        dialects: [.yue: ["我個孫幫我整嘅手機，我唔識用，想問下仲有幾多錢"]])

    /// Lost on the screen.
    static let elderlyConfused = PhraseList(
        zh: ["那个啥来着", "屏幕上有个绿色的东西一直在跳", "那个绿的点了没反应", "这个东西怎么弄啊"],
        en: ["the green thing keeps blinking", "I don't understand what to press"])

    /// "0" and "人工" are the shortcuts the bot tells older customers about.
    static let elderlyPerson = PhraseList(zh: ["0", "人工", "好"], en: ["0", "yes"])

    // MARK: Conversation control

    static let greeting = PhraseList(zh: ["你好", "您好"], en: ["hi there", "hello", "good morning"])
    static let help = PhraseList(
        zh: ["你都能帮我干啥", "你能做什么"], en: ["what can you do?", "what kind of things can you help me with?"])
    static let thanks = PhraseList(
        zh: ["谢谢", "好的谢谢", "行，谢谢你", "明白了", "谢谢，没别的了"],
        en: ["thanks a lot", "great, thanks", "ok, thanks for letting me know", "thank you"],
        dialects: [.yue: ["唔該晒"], .sichuan: ["要得，谢谢哈"], .dongbei: ["妥了，谢了"], .wu: ["谢谢侬"], .minnan: ["多謝汝"]])
    static let elderlyThanks = PhraseList(zh: ["谢谢你啊闺女", "好的好的，谢谢"], en: ["thank you dear"])
    static let goodbye = PhraseList(zh: ["再见", "拜拜"], en: ["bye", "goodbye", "thanks, bye"])
    static let yes = PhraseList(
        zh: ["好", "是的", "确认", "行，确认办理", "好的，办吧"],
        en: ["yes", "yes, go ahead", "ok yes go ahead", "yes please"],
        dialects: [.yue: ["係呀，確認"], .sichuan: ["要得"], .dongbei: ["嗯呐"], .wu: ["好额"], .minnan: ["著啦"]])
    static let no = PhraseList(
        zh: ["不要", "不用了", "不用"], en: ["no, leave it", "no thanks", "no, that's fine"],
        dialects: [.minnan: ["毋免"]])
    static let never = PhraseList(
        zh: ["算了不换了", "不办了", "算了"], en: ["forget it", "never mind"],
        dialects: [.sichuan: ["算球，不要了"], .wu: ["覅了，勿换了"]])
    static let unsure = PhraseList(zh: ["再想想", "考虑一下"], en: ["let me think about it", "maybe"])
    static let giveUpIdentity = PhraseList(zh: ["算了，不查了", "算了"], en: ["actually, forget it", "never mind"])
    static let pick = PhraseList(zh: ["第一个", "第二个"], en: ["the first one", "the second one"])
    static let waiting = PhraseList(
        zh: ["还要等多久", "还在吗", "还有人吗", "好的我等着"],
        en: ["hello?", "are you still there?", "how long will it take?", "ok I'll wait"])
    static let dontKnow = PhraseList(zh: ["不知道", "不清楚"], en: ["no idea", "I don't know"])

    // MARK: Identity

    static let phone = PhraseList(
        zh: ["{phone}", "我的手机号是{phone}", "{phoneSpaced}", "{phoneDashed}", "号码{phone}"],
        en: ["{phone}", "my number is {phone}", "it's {phone}", "{phoneSpaced}"])
    static let pin = PhraseList(
        zh: ["{pin}", "密码{pin}", "服务密码是{pin}"], en: ["{pin}", "my PIN is {pin}", "PIN: {pin}", "sorry, it's {pin}"])
    static let phoneAndPIN = PhraseList(
        zh: ["{phone}，服务密码{pin}"], en: ["my number is {phone} and my PIN is {pin}", "it's {phone}, PIN {pin}"])

    // MARK: Frustration

    /// A question asked again with growing impatience (`{q}` is the question; level 1, 2, 3).
    static let impatience: [PhraseList] = [
        PhraseList(zh: ["快点告诉我，{q}", "快点！{q}", "怎么回事，{q}"], en: ["hurry up, {q}", "come on, {q}"]),
        PhraseList(
            zh: ["我都问了好几遍了，{q}！！！", "到底{q}？？？", "我说了多少遍了，{q}！！！"],
            en: ["how many times do I have to ask!!! {Q}", "I already asked!!! {q}"]),
        PhraseList(
            zh: ["你们这什么破服务，{q}", "什么垃圾客服，{q}！！！", "气死我了，{q}"], en: ["this is ridiculous, {q}", "useless bot. {q}"]),
    ]

    // MARK: Noise

    static let zhOpeners = ["你好，", "请问", "嗯，", "喂，", "那个，", "麻烦问下，", "您好，"]
    static let zhEndings = ["？", "。", "！", "啊", "呀", "，谢谢", "??", "。。。"]
    static let enOpeners = ["hi, ", "hello, ", "um ", "so ", "hey "]
    static let enEndings = [" please", " thanks", " pls", "?", "??"]

    /// Values for the `{name}` marks that vary message by message.
    static let fillers: [String: [String]] = [
        "n": ["2", "3", "4", "两", "三"],
        "nEn": ["2", "3", "4", "two", "three"],
        "hour": ["8", "9", "10"],
        "amount": ["15", "23", "35", "48", "66", "88", "120"],
        "district": ["朝阳", "海淀", "浦东", "天河", "福田", "武侯", "西湖", "鼓楼"],
        "districtEn": ["Chaoyang", "Haidian", "Pudong", "Tianhe", "Futian", "Xihu"],
        "street": ["建国路", "学院路", "人民路", "中山路", "解放路"],
        "number": ["5", "12", "20", "36", "88", "108"],
        "estate": ["望京花园小区", "幸福小区", "阳光花园", "锦绣家园", "翠湖新村"],
        "estateEn": ["Riverside Gardens", "Lotus Garden", "Sunshine Court", "Green Lake Estate"],
        "weekday": ["周一", "周二", "周三", "周五", "上周六", "昨天"],
        "weekdayEn": ["Monday", "Tuesday", "Friday", "Saturday", "yesterday"],
        "gb": ["3", "5", "8", "12", "15", "20", "25", "40", "60"],
        "minutes": ["50", "100", "150", "200", "300", "500"],
        "city": ["上海", "北京", "广州", "深圳", "杭州", "成都"],
        "cityEn": ["Shanghai", "Beijing", "Guangzhou", "Shenzhen", "Hangzhou"],
    ]
}
